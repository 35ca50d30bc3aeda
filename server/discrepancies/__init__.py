"""Balance discrepancies found at meter swaps, reviewed and settled by the office."""
