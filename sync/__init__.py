"""Offline-first sync: the protocol (both sides), the server side and the device side."""
