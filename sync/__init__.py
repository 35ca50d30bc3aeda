"""Offline-first sync: the protocol (both sides), the device engine (``client``) and the
generic, storage-agnostic parts the server builds on (lanes, idempotency, cursors, clock
correction). Nothing here imports ``server`` or ``mobile``."""
