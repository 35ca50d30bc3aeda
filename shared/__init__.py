"""GridOne's shared domain: pure Python used by the server and the phone alike.

Nothing here does I/O or imports server/, mobile/, flet, httpx or sqlmodel tables.
"""
