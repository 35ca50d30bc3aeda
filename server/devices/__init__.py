"""Devices: what the office sees of a user's phones, and revoking a lost one."""
