"""work orders."""
