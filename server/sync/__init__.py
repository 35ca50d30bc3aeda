"""Sync endpoints and the server-side sync tables."""
