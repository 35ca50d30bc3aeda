"""Business applications (业扩报装 and changes) and the care list (用电关怀): the rules as
data and pure decisions, shared by the server, the phone and the office desk."""
