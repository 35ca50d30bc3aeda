"""The office screens: one component per screen, a function of its state."""
