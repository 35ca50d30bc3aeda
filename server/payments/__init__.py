"""Online recharge: payment orders, signed provider callbacks, and the sandbox provider."""
