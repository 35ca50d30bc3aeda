"""The office screens' state: plain observable objects with methods, tested without a
client (``tests/unit/test_office_*.py``)."""
