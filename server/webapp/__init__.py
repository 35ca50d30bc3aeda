"""The installable device app (``mobile.web.build``'s output), served at ``/app/``."""

from server.webapp.router import router

__all__ = ["router"]
