"""Operations: metrics, request ids and JSON logs, health and readiness, security
headers, backup and restore."""
