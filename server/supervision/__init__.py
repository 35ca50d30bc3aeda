"""Supervision (issue 10, part 2): the review queue, four eyes on money and counts, the
audit viewer, the station overview and the desk's customer lookup."""
