"""``python -m launcher ...``: the same as the ``gridone`` command."""

from launcher.cli import app

app()
