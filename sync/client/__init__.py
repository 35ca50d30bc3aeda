"""The device side of sync: a local SQLite store with the outbox and photo queue, a read
model that lays the user's unsynced work over the server's rows, and the engine that
pushes, uploads and pulls over HTTP.

No UI here: the Flet app builds on ``Store``, ``ReadModel``, ``Actions`` and
``SyncEngine``.
"""
