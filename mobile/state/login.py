"""The sign-in screen: server URL (remembered), user name, password."""

from __future__ import annotations

from dataclasses import dataclass

import flet as ft

from mobile.i18n import t
from mobile.services.backend import Backend, SessionInfo
from mobile.state.common import off_loop
from sync.client.errors import PermanentError, TransientError
from sync.client.messages import describe


@ft.observable
@dataclass
class LoginState:
    backend: Backend
    server_url: str = ""
    #: the server is the one the app came from: nothing to type (see ``AppState``)
    server_fixed: bool = False
    username: str = ""
    password: str = ""
    busy: bool = False
    error: str = ""

    def can_submit(self) -> bool:
        return bool(self.server_url.strip() and self.username.strip() and self.password)

    async def submit(self, lang: str) -> SessionInfo | None:
        """Sign in over the network; on success the password is forgotten at once."""
        if not self.can_submit():
            self.error = t("login_fields" if self.server_fixed else "login_required_fields",
                           lang)
            return None
        self.busy = True
        self.error = ""
        try:
            session = await off_loop(self.backend.sign_in, self.server_url.strip(),
                                     self.username.strip(), self.password)
        except TransientError:
            self.error = t("login_failed_offline", lang)
            return None
        except PermanentError as exc:
            self.error = describe(exc.code, lang, exc.details)
            return None
        finally:
            self.busy = False
        self.password = ""
        return session
