"""Customer notifications: the in-app inbox (synced) and the outgoing message outbox."""
