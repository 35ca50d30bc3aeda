"""The GridOne app's composition root: wire one device's services and state, render.

Start it with ``run(api_url=..., host=..., port=...)`` (web mode, served with ``no_cdn``;
blocks) or ``python -m mobile --api-url ... --port ...`` (``gridone demo`` starts it so, in
a child process: ``launcher.processes``). In web mode each browser gets its own
device identity and local store (see ``mobile.services.device``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import flet as ft

from mobile import theme
from mobile.context import AppContext
from mobile.services import device
from mobile.services.backend import SessionInfo
from mobile.services.drafts import FileDrafts
from mobile.services.engine_backend import EngineBackend
from mobile.services.hardware import Hardware
from mobile.services.platform import Platform
from mobile.state.app import AppState
from mobile.state.common import off_loop
from mobile.state.sync import SyncDriver, SyncState
from mobile.views.shell import App
from mobile.web.served import make_web_root
from shared.heap import settle

log = logging.getLogger(__name__)
ASSETS = Path(__file__).parent / "assets"
APP_NAME = "GridOne"
CJK_FONT = "GridOneCJK"


async def _device_locale(page: ft.Page) -> str | None:
    try:
        info = await asyncio.wait_for(page.get_device_info(), 5)
    except Exception:  # not every platform answers
        return None
    locales = getattr(info, "locales", None) or []
    if not locales:
        return None
    first = locales[0]
    return "-".join(x for x in (first.language_code, getattr(first, "country_code", None))
                    if x)


class OpenDevices:
    """The device stores this app process has open, by device key. Two tabs of one browser
    share its device key: they share one store and engine (opened once, closed with the
    last tab), as two screens of one phone would."""

    def __init__(self) -> None:
        self.by_key: dict[str, tuple[EngineBackend, int]] = {}
        self.lock = asyncio.Lock()

    def close_all(self) -> None:
        """At shutdown: every engine stopped and every store closed, whatever tabs were
        still open."""
        for backend, _ in list(self.by_key.values()):
            try:
                backend.close()
            except Exception:  # one device's failure does not keep the others open
                log.exception("closing a device store at shutdown failed")
        self.by_key.clear()


def make_main(*, api_url: str = "", data_root: Path | None = None,
              offline_retry_s: float | None = None, online_interval_s: float = 20.0,
              fixed_server: bool = False, map_tiles: str = "",
              platform: Platform | None = None, devices: OpenDevices | None = None
              ) -> Callable[[ft.Page], Awaitable[None]]:
    """``offline_retry_s``: the longest wait between sync attempts while they fail (the
    engine backs off with jitter up to it); ``online_interval_s``: between polls when the
    server does not hold long polls; ``fixed_server``: served by its own server (no URL
    field); ``platform``: what differs in the browser build (storage, transport);
    ``devices``: where the open device stores are kept (closed by the caller at exit)."""
    platform = platform or Platform()
    server_fixed = platform.server_fixed or (fixed_server and bool(api_url))
    root = device.data_root(data_root)
    devices = devices or OpenDevices()
    open_devices, lock = devices.by_key, devices.lock

    async def acquire(key: str, folder: Path) -> EngineBackend:
        async with lock:
            backend, users = open_devices.get(key, (None, 0))
            if backend is None:
                await platform.open_storage()
                backend = await off_loop(lambda: EngineBackend(
                    folder, transport=platform.transport, poll_s=online_interval_s,
                    backoff_cap_s=offline_retry_s))
                backend.store.on_commit(platform.stored)
            open_devices[key] = (backend, users + 1)
            return backend

    async def release(key: str) -> None:
        async with lock:
            backend, users = open_devices[key]
            if users > 1:
                open_devices[key] = (backend, users - 1)
                return
            del open_devices[key]
        await off_loop(backend.close)

    async def main(page: ft.Page) -> None:
        try:
            await session_main(page)
        except Exception:
            log.exception("the app session failed to start")
            raise

    async def session_main(page: ft.Page) -> None:
        page.title = APP_NAME
        page.theme_mode = ft.ThemeMode.LIGHT
        page.fonts = {CJK_FONT: "fonts/DroidSansFallbackFull.ttf"}
        page.theme = theme.build_theme(font_family=CJK_FONT)
        page.padding = 0

        prefs = ft.SharedPreferences()
        hardware = Hardware(prepare_image=platform.prepare_image, fonts=platform.fonts)
        hardware.attach()
        # The four answers from the browser in one round trip, not four in a row (a
        # signed-in reload of the office desk spent 0.4-0.8 s here under load).
        key, saved_lang, saved_url, locale = await asyncio.gather(
            device.device_key(prefs), prefs.get(device.LANG_PREF),
            prefs.get(device.SERVER_URL_PREF), _device_locale(page))
        folder = device.device_dir(root, key)
        backend = await acquire(key, folder)

        app = AppState(backend=backend, device_locale=locale,
                       lang_pref=str(saved_lang) if saved_lang in ("auto", "zh", "en")
                       else "auto",
                       server_url=(api_url if server_fixed else
                                   backend.server_url or str(saved_url or "") or api_url),
                       server_fixed=server_fixed, app_version=platform.version,
                       device_key=key,
                       office_route=(page.route or "").rstrip("/").startswith("/office"))
        backend.set_language(app.lang)
        sync = SyncState(backend)
        ctx = AppContext(backend=backend, drafts=FileDrafts(folder / "drafts"),
                         map_tiles=map_tiles,
                         hardware=hardware, device_key=key, sync=sync)

        def auth_lost() -> None:
            app.notify_user(app.tr("session_expired"))
            app.signed_out()

        driver = SyncDriver(sync, on_auth_lost=auth_lost, on_synced=ctx.reload_all)
        ctx.kick_sync = driver.kick

        def make_office(session: SessionInfo) -> Any:
            # the office is online: it calls the API with this device's tokens
            from mobile.office.client import OfficeClient

            return OfficeClient(session.server_url, backend.store, lang=app.lang)

        ctx.make_office = make_office

        async def persist(_: object = None) -> None:
            await prefs.set(device.LANG_PREF, app.lang_pref)
            if app.server_url:
                await prefs.set(device.SERVER_URL_PREF, app.server_url)

        def on_app_change(_sender: object, field: str | None) -> None:
            if field in ("lang_pref", "server_url"):
                page.run_task(persist)
            if field == "session":
                if app.session is not None and not app.office:
                    # office staff are online and read the server's paged lists: their
                    # browser keeps no copy of the station's jobs
                    driver.start()
                    driver.kick()
                else:
                    page.run_task(driver.stop)

        app.subscribe(on_app_change)
        connectivity = ft.Connectivity()
        connectivity.on_change = lambda _e: driver.kick()
        # observables hold their listeners weakly: keep ours (and the services) alive
        page.data = {"keep": (prefs, hardware, connectivity, on_app_change, driver)}

        session = backend.session()
        if session is not None:
            app.signed_in(session)  # works offline: the refresh token is on the device
        sync.refresh()

        async def closed(_: object) -> None:
            await driver.stop()
            await release(key)

        page.on_close = closed
        page.render_views(App, app, ctx)

    return main


def run(*, api_url: str = "", host: str = "127.0.0.1", port: int = 8550,
        data_dir: str | Path | None = None, open_browser: bool = False,
        offline_retry_s: float | None = None, online_interval_s: float = 20.0,
        fixed_server: bool = False, map_tiles: str = "") -> None:
    """Serve the app in web mode (the PWA) until interrupted.

    ``api_url`` pre-fills the server URL on the sign-in screen; ``data_dir`` is where the
    devices' local stores live (default ``./data/mobile``); ``fixed_server``: the app is
    served by its own server (the launcher), so nobody is asked for a server URL.
    """
    devices = OpenDevices()
    main = make_main(api_url=api_url, data_root=Path(data_dir) if data_dir else None,
                     offline_retry_s=offline_retry_s, online_interval_s=online_interval_s,
                     fixed_server=fixed_server, map_tiles=map_tiles, devices=devices)
    if not open_browser:
        os.environ.setdefault("FLET_FORCE_WEB_SERVER", "true")  # serve only, open nothing
    # Flet's web client with Flutter's skwasm renderer on the page's thread (its
    # two-thread mode trapped and deadlocked here: mobile/web/served.py)
    web_root = make_web_root()
    os.environ["FLET_WEB_PATH"] = str(web_root)
    settle()  # the imports above out of the collector's sight (a device's first download)
    try:
        ft.run(main, name="", host=host, port=port, view=ft.AppView.WEB_BROWSER,
               assets_dir=str(ASSETS), no_cdn=True)
    finally:
        devices.close_all()
        shutil.rmtree(web_root, ignore_errors=True)
    # Stopped (SIGTERM, Ctrl-C): the stores are closed, so the interpreter's teardown of
    # every module and object (1.5-3 s here, more with sessions still open) is skipped.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
