"""Request schemas of the payments API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.numbers import Fen


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Annotated[str, StringConstraints(max_length=36)]
    amount_fen: Fen = Field(description="Integer fen, 1-5,000 yuan")
    idempotency_key: Annotated[str, StringConstraints(min_length=8, max_length=64,
                                                      pattern=r"^[A-Za-z0-9_.:-]+$")]
