"""Prepaid billing: ledger, tariffs, daily charging, readings import, recharges, corrections."""
