"""Sync endpoints, the server-side sync tables, and the server's side of the protocol:
apply a push (``push``, op ``handlers``), serve a pull (``pull``, ``scope``, ``serialize``),
given a database, never a request."""
