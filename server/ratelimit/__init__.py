"""Rate limits kept in the database, so they hold across API workers: sign-in failures
with lock-out (per user name and per address) and per-device sync budgets."""
