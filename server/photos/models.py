"""Photos: content-addressed by SHA-256; bytes live in the photo folder."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when


class Photo(SQLModel, table=True):
    sha256: str = Field(primary_key=True, max_length=64)
    status: str = Field(default="expected", max_length=12)  # expected | complete
    content_type: str | None = Field(default=None, max_length=40)
    size: int | None = None
    received: int = 0  # bytes held so far (uploads resume from here)
    width: int | None = None
    height: int | None = None
    #: SHA-256 of the bytes served: the server's own re-encoding of the uploaded image
    #: (``sha256`` names what the device uploaded and the server verified).
    stored_sha256: str | None = Field(default=None, max_length=64)
    uploaded_by: str | None = fk("user.id", nullable=True)
    created_at: datetime = when(now=True)
    completed_at: datetime | None = when()


class PhotoLink(SQLModel, table=True):
    """A photo attached to something (a work order, a meter swap face …)."""

    __tablename__ = "photo_link"

    id: str = id_field()
    sha256: str = Field(foreign_key="photo.sha256", index=True, max_length=64)
    work_order_id: str | None = fk("work_order.id", nullable=True)
    purpose: str = Field(default="job", max_length=20)  # job | old_face | new_face | report
    caption: str | None = Field(default=None, max_length=200)
    added_by: str | None = fk("user.id", nullable=True)
    added_at: datetime = when(now=True)
