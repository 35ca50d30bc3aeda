"""The office desk (issue 10): the same Flet app laid out for a desktop browser when the
signed-in role is office staff — a navigation rail, wide tables and side panels.

Office staff are online: every screen calls the server's HTTP API through one small
client (``client.py``) that reuses the signed-in session's tokens and refresh. The frame
is ``shell.py``; its destinations are the ``PAGES`` of ``pages.py``.
"""
