"""Remote disconnect / reconnect commands to meters, re-sent until acknowledged."""
