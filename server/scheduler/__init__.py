"""The in-process scheduler (issue 10): periodic jobs run by one worker of many per tick.

``registry`` (jobs as data), ``locks`` (who runs a tick), ``service`` (APScheduler and the
run records), ``jobs`` (the server's own jobs), ``router`` (the admin's view).
"""
