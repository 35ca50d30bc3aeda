"""The dispatch desk (issue 10): the board's queries, the suggested crew, the roster and
who is on duty, several jobs at once, the board's change feed, and stall rules with their
escalation."""
