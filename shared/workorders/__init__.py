"""Work-order rules: the state machine and the deadlines."""
