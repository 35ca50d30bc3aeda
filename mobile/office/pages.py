"""The office's destinations: each engineer appends their own entries.

The frame (``shell.py``) shows, in this order, the pages whose ``roles`` include the
signed-in role; ``view(app, octx)`` builds the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from mobile.office.views.admin import AdminView
from mobile.office.views.applications import ApplicationsView
from mobile.office.views.appraisal import AppraisalView
from mobile.office.views.approvals import ApprovalsView
from mobile.office.views.audit import AuditView
from mobile.office.views.board import BoardView
from mobile.office.views.care import CareView
from mobile.office.views.cash import CashSheetView
from mobile.office.views.customers import CustomersView
from mobile.office.views.dispatch_map import DispatchMapView
from mobile.office.views.hotline import HotlineView
from mobile.office.views.monitoring import MonitoringView
from mobile.office.views.outages import OutagesView
from mobile.office.views.overview import OverviewView
from mobile.office.views.review import ReviewView
from mobile.office.views.roster import RosterView
from shared.enums import Role

#: Who dispatches: the board, the roster, the map.
DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})
#: Who supervises (reviews, audit, overview), and who works at the desk (customers, the
#: first pair of eyes of an approval).
SUPERVISOR_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
DESK_ROLES = DISPATCH_ROLES | {Role.AGENT}


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
    # grid monitoring (issue 12): managers, dispatchers and admins of the desk
    OfficePage("monitoring", ft.Icons.INSIGHTS, "page_monitoring", DISPATCH_ROLES,
               MonitoringView),
    OfficePage("appraisal", ft.Icons.LEADERBOARD, "page_appraisal", DISPATCH_ROLES,
               AppraisalView),
    OfficePage("outages", ft.Icons.POWER_OFF, "page_outages", DISPATCH_ROLES, OutagesView),
    OfficePage("cash", ft.Icons.PAYMENTS, "page_cash", frozenset({Role.MANAGER, Role.ADMIN}),
               CashSheetView),
    # business applications (issue 13): the counter's walk-ins and every step's decision
    OfficePage("applications", ft.Icons.ASSIGNMENT_IND, "page_applications",
               DISPATCH_ROLES | {Role.AGENT}, ApplicationsView),
    OfficePage("admin", ft.Icons.ADMIN_PANEL_SETTINGS, "page_admin", frozenset({Role.ADMIN}),
               AdminView),
    # supervision (issue 10 part 2)
    OfficePage("customers", ft.Icons.PERSON_SEARCH, "page_customers", DESK_ROLES, CustomersView),
    OfficePage("overview", ft.Icons.INSIGHTS, "page_overview", SUPERVISOR_ROLES, OverviewView),
    OfficePage("review", ft.Icons.FACT_CHECK, "page_review", SUPERVISOR_ROLES, ReviewView),
    OfficePage("approvals", ft.Icons.VERIFIED_USER, "page_approvals", DESK_ROLES,
               ApprovalsView),
    # the care list (issue 13): whoever asks may approve another's request (server rule)
    OfficePage("care", ft.Icons.VOLUNTEER_ACTIVISM, "page_care", DESK_ROLES, CareView),
    OfficePage("audit", ft.Icons.HISTORY, "page_audit", SUPERVISOR_ROLES, AuditView),
]


def pages_for(role: Role) -> list[OfficePage]:
    return [p for p in PAGES if role in p.roles]
