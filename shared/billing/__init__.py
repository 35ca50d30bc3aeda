"""Prepaid billing math, pure: tariffs and tier costs, daily usage from register readings,
ledger rules and limits, balance alerts and supply decisions, customer notices.

Runs identically on the server and the phone; imports no I/O.
"""
