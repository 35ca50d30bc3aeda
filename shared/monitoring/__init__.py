"""Grid monitoring, pure: collection, transformer load and line-loss formulas, the
thresholds they are judged by, suspect scoring, and the rules of an inspection finding.

Runs identically on the server and the phone; imports no I/O.
"""
