"""Request schemas of the meter-command API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from shared.text import Paragraphs


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Annotated[str, StringConstraints(max_length=36)]
    kind: Literal["disconnect", "reconnect"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]
