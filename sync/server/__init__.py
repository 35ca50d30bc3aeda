"""Server side of sync: apply a push, serve a pull (given a database, never a request)."""
