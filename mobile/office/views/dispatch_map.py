"""The job map (flet-map): open jobs and where the crews were last seen. The tile server is
the server's setting; without one (or when it cannot be reached) the markers are drawn on
a plain background and the screen says so."""

from __future__ import annotations

from typing import Any

import flet as ft
import flet_map as fm

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.dispatch_map import MapState
from mobile.state.app import AppState

PLAIN = "#E8EEEA"


def _job_marker(job: dict[str, Any], state: MapState, lang: str) -> fm.Marker:
    color = theme.DANGER if job["overdue"] or job["stalled"] else theme.PRIMARY
    return fm.Marker(
        coordinates=fm.MapLatitudeLongitude(job["lat"], job["lon"]), width=30, height=30,
        content=ft.Container(
            tooltip=f"{job['code']} · {label(job['kind'], lang)} · {label(job['status'], lang)}",
            on_click=lambda _, j=job: setattr(state, "picked", j),
            content=ft.Icon(ft.Icons.LOCATION_ON, color=color, size=30)))


def _crew_marker(crew: dict[str, Any], state: MapState, lang: str) -> fm.Marker:
    return fm.Marker(
        coordinates=fm.MapLatitudeLongitude(crew["lat"], crew["lon"]), width=28, height=28,
        content=ft.Container(
            tooltip=f"{crew['display_name']} · {label(crew['role'], lang)}",
            on_click=lambda _, c=crew: setattr(state, "picked", c),
            bgcolor=ft.Colors.WHITE, border_radius=14,
            border=ft.Border.all(2, ft.Colors.BLUE_700 if crew["on_duty"] else theme.MUTED),
            content=ft.Icon(ft.Icons.ENGINEERING, size=18, color=ft.Colors.BLUE_700)))


def _legend(lang: str) -> ft.Control:
    def item(icon: ft.IconData, color: str, key: str) -> ft.Control:
        return ft.Row([ft.Icon(icon, color=color, size=18), ft.Text(t(key, lang), size=13)],
                      spacing=4, tight=True)

    return ft.Row([item(ft.Icons.LOCATION_ON, theme.PRIMARY, "legend_job"),
                   item(ft.Icons.LOCATION_ON, theme.DANGER, "legend_overdue"),
                   item(ft.Icons.ENGINEERING, ft.Colors.BLUE_700, "legend_crew")], spacing=16)


@ft.component
def DispatchMapView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: octx.track(MapState(octx)))
    lang = app.lang
    ft.on_mounted(state.load)
    layers: list[Any] = []
    tile_url = state.tile_url
    if tile_url and not state.tiles_failed:
        layers.append(fm.TileLayer(
            url_template=tile_url, user_agent_package_name="GridOne office",
            evict_error_tile_strategy=fm.TileLayerEvictErrorTileStrategy.DISPOSE,
            on_image_error=lambda _: state.tiles_unavailable()))
    layers.append(fm.MarkerLayer(markers=[
        *[_job_marker(j, state, lang) for j in state.jobs],
        *[_crew_marker(c, state, lang) for c in state.crews]]))
    bounds = state.bounds()
    fit = None
    if bounds is not None:
        fit = fm.CameraFit(bounds=fm.MapLatitudeLongitudeBounds(
            fm.MapLatitudeLongitude(*bounds[0]), fm.MapLatitudeLongitude(*bounds[1])),
            padding=ft.Padding.all(40))
    lat, lon = state.center()
    the_map = fm.Map(
        expand=True, bgcolor=PLAIN, layers=layers, initial_zoom=12,
        initial_center=fm.MapLatitudeLongitude(lat, lon), initial_camera_fit=fit,
        key=f"map-{len(state.jobs)}-{len(state.crews)}-{state.tiles_failed}")
    notes: list[ft.Control] = []
    if not tile_url:
        notes.append(ft.Text(t("map_no_tiles", lang), size=13, color=theme.MUTED))
    elif state.tiles_failed:
        notes.append(ft.Text(t("map_tiles_failed", lang), size=13, color=theme.WARNING))
    if state.truncated:
        notes.append(ft.Text(t("map_truncated", lang), size=13, color=theme.WARNING))
    if state.error:
        notes.append(ft.Text(state.error, color=theme.DANGER))
    picked = state.picked
    if picked:
        text = (f"{picked['code']} · {label(picked['kind'], lang)} · "
                f"{label(picked['status'], lang)}" if "code" in picked
                else f"{picked['display_name']} · {label(picked['role'], lang)}")
        notes.append(ft.Row([
            ft.Text(text, weight=ft.FontWeight.BOLD),
            *([ft.TextButton(t("open_on_board", lang),
                             on_click=lambda _, i=picked["id"]: octx.shell.open_job(i))]
              if "code" in picked else [])]))
    head = ft.Row([
        _legend(lang),
        ft.Text(f"{t('jobs_n', lang, n=len(state.jobs))} · "
                f"{t('crews_n', lang, n=len(state.crews))}", size=13, color=theme.MUTED),
    ], wrap=True, spacing=20)
    return ft.Container(padding=ft.Padding.all(14), expand=True, content=ft.Column(
        [head, *notes, ft.Container(content=the_map, expand=True, border_radius=8,
                                    clip_behavior=ft.ClipBehavior.HARD_EDGE,
                                    border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))],
        spacing=8, expand=True))
