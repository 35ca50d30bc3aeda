"""The office's destinations: each engineer appends their own entries.

The frame (``shell.py``) shows, in this order, the pages whose ``roles`` include the
signed-in role; ``view(app, octx)`` builds the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from mobile.office.views.admin import AdminView
from mobile.office.views.appraisal import AppraisalView
from mobile.office.views.board import BoardView
from mobile.office.views.dispatch_map import DispatchMapView
from mobile.office.views.hotline import HotlineView
from mobile.office.views.roster import RosterView
from shared.enums import Role

#: Who dispatches: the board, the roster, the map.
DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class OfficePage:
    name: str
    icon: str            # an ft.Icons name
    label_key: str       # key in mobile/office/i18n.py
    roles: frozenset[Role]
    view: Callable[..., ft.Control]   # view(app, octx) -> control


PAGES: list[OfficePage] = [
    OfficePage("board", ft.Icons.DASHBOARD, "page_board", DISPATCH_ROLES, BoardView),
    # counter clerks (agents at a desk) take walk-in reports here too
    OfficePage("hotline", ft.Icons.PHONE_IN_TALK, "page_hotline",
               DISPATCH_ROLES | {Role.AGENT}, HotlineView),
    OfficePage("roster", ft.Icons.GROUPS, "page_roster", DISPATCH_ROLES, RosterView),
    OfficePage("map", ft.Icons.MAP, "page_map", DISPATCH_ROLES, DispatchMapView),
    OfficePage("appraisal", ft.Icons.LEADERBOARD, "page_appraisal", DISPATCH_ROLES,
               AppraisalView),
    OfficePage("admin", ft.Icons.ADMIN_PANEL_SETTINGS, "page_admin", frozenset({Role.ADMIN}),
               AdminView),
]


def pages_for(role: Role) -> list[OfficePage]:
    return [p for p in PAGES if role in p.roles]
