"""An in-app map of a job's location (flet-map): a marker on the tiles of the configured
tile server (``--map-tiles``), or on a plain background when none is set."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.i18n import t

PLAIN = "#E8EEEA"


def job_map(lat: float, lon: float, tile_url: str, lang: str) -> ft.Control:
    # the map package is read when a map is first shown, not at the app's start
    import flet_map as fm
    layers: list[fm.MapLayer] = []
    if tile_url:
        layers.append(fm.TileLayer(
            url_template=tile_url, user_agent_package_name="GridOne",
            evict_error_tile_strategy=fm.TileLayerEvictErrorTileStrategy.DISPOSE))
    layers.append(fm.MarkerLayer(markers=[fm.Marker(
        content=ft.Icon(ft.Icons.LOCATION_ON, color=theme.DANGER, size=40),
        coordinates=fm.MapLatitudeLongitude(lat, lon))]))
    the_map = fm.Map(expand=True, bgcolor=PLAIN, layers=layers, initial_zoom=16,
                     initial_center=fm.MapLatitudeLongitude(lat, lon))
    return ft.Column([
        ft.Container(content=the_map, height=260, border_radius=8,
                     clip_behavior=ft.ClipBehavior.HARD_EDGE,
                     border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT)),
        ft.Text(f"{lat:.5f}, {lon:.5f}" + ("" if tile_url else " · " + t("map_no_tiles_phone",
                                                                         lang)),
                size=12, color=theme.MUTED),
    ], spacing=4)
