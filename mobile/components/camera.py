"""Taking a photo with the device camera (flet-camera): preview, shutter, done.

Shown in place when the user taps "Take photo". Devices without a camera (or that refuse
it) get a short message, and the user chooses a file instead."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import t

log = logging.getLogger(__name__)


@ft.component
def CameraPanel(lang: str, on_photo: Callable[[bytes], Awaitable[Any]],
                on_close: Callable[[], Any]) -> ft.Control:
    import flet_camera as fc

    # A new Camera each render takes over the mounted one's identity; call the latest.
    live = ft.use_ref(None)
    camera = fc.Camera(expand=True, preview_enabled=True)
    live.current = camera
    status, set_status = ft.use_state("starting")

    async def start() -> None:
        try:
            cameras = await live.current.get_available_cameras()
            if not cameras:
                set_status("none")
                return
            back = next((c for c in cameras
                         if c.lens_direction == fc.CameraLensDirection.BACK), cameras[0])
            await live.current.initialize(back, fc.ResolutionPreset.VERY_HIGH,
                                          enable_audio=False)
            set_status("ready")
        except Exception as exc:  # no permission, no device, unsupported browser
            log.info("camera unavailable: %s", exc)
            set_status("none")

    ft.on_mounted(start)

    async def shoot(_: Any) -> None:
        set_status("taking")
        try:
            data = await live.current.take_picture()
        except Exception as exc:
            log.warning("take_picture failed: %r", exc)
            set_status("none")
            return
        await on_photo(bytes(data))
        on_close()

    message = {"starting": t("camera_starting", lang), "none": t("camera_none", lang),
               "taking": t("camera_taking", lang)}.get(status, "")
    # The shutter comes first: it is on screen right where "Take photo" was tapped, with
    # the preview under it (a phone screen holds both).
    return ft.Column([
        ft.Row([
            ft.FilledButton(t("shutter", lang), icon=ft.Icons.CAMERA, height=48,
                            on_click=shoot, disabled=status != "ready"),
            ft.TextButton(t("cancel", lang), on_click=lambda _: on_close()),
        ], spacing=8),
        ft.Text(message, size=14, color=theme.MUTED, visible=bool(message)),
        ft.Container(height=260, bgcolor=ft.Colors.BLACK, border_radius=8, content=camera,
                     visible=status != "none"),
    ], spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
