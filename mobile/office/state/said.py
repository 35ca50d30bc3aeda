"""What a desk page last said (a confirmation, an error), kept as *what to say* — a key of
the office strings or an error code, with its values — and put into words in the language
of the moment: switching the language re-words the message instead of leaving it in the
old one (issue 15)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mobile.office.client import OfficeError
from mobile.office.i18n import t
from shared.errors import DomainError
from shared.messages import translate


@dataclass(frozen=True)
class Said:
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    #: ``key`` is an error code (``shared.messages``), not a key of the office strings
    code: bool = False
    #: the server's own words, for a code this app does not know
    fallback: str = ""

    def text(self, lang: str) -> str:
        if not self.code:
            return t(self.key, lang, **self.params)
        words = translate(self.key, lang, **self.params)
        return self.fallback if words == self.key and self.fallback else words

    @classmethod
    def error(cls, exc: OfficeError | DomainError) -> Said:
        """A refusal by its code and details (the server's, or the shared rule's here)."""
        if isinstance(exc, OfficeError):
            return cls(exc.code, dict(exc.details), code=True, fallback=exc.message)
        return cls(exc.code.value, dict(exc.details), code=True)


def words(said: Said | None, lang: str) -> str:
    return said.text(lang) if said is not None else ""


class SaysThings:
    """A page state that keeps its last ``message`` and ``error`` as ``Said`` and has an
    ``octx`` (the office context): both in words in the language of the moment."""

    octx: Any
    message: Said | None
    error: Said | None

    @property
    def lang(self) -> str:
        return str(self.octx.client.lang)

    @property
    def error_text(self) -> str:
        return words(self.error, self.lang)

    @property
    def message_text(self) -> str:
        return words(self.message, self.lang)
