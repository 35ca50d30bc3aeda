# ruff: noqa: E501  (the expected table is laid out as a table)
"""The authorization matrix: EVERY endpoint of the OpenAPI document × every kind of user,
against their own and someone else's objects, expecting the documented status.

* 401 when anonymous (except the public endpoints: health and sign-in);
* 404 when the object is outside what you may see (another customer's account or job,
  another station's job, a job kind your role does not work) — its existence is not
  revealed;
* 403 when you can see it but your role / relationship may not do this (a customer
  dispatching, a crew that is not the assignee resolving, a customer on the staff-only
  register);
* 200/201/204 when allowed. For lists, 200 and whether the case's object is listed.

Each case gets its own fresh account (owned by customer1, in station 1's town area, with
its own meter) and its own job in the state the action needs, so cases do not see each
other's objects. Refused requests must leave the database unchanged.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, update
from sqlmodel import Session

from server.app import create_app
from server.auth import service as auth_service
from server.auth.security import make_token
from server.customers.models import Account
from server.customers.service import document_digest, mask_document
from server.discrepancies.models import BalanceDiscrepancy
from server.meters import service as meter_service
from server.meters.models import Meter
from server.photos import service as photos
from server.tables import metadata
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders.models import WorkOrder
from shared.enums import MeterStatus
from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from tests.conftest import SECRET, actor_for, sqlite_settings, svc_act, svc_report
from tests.factories import PASSWORD, PEPPER, World, build_world

# -- who asks -------------------------------------------------------------------------
# The columns of the matrix. "own"/"other": customer1 owns the case's account, customer2
# does not. crew1 is the assignee of fault jobs, crew1b a crew of the same station, crew2
# of the other station; tech1 is the assignee of meter-swap jobs, tech2 of the other
# station; dispatcher1 / manager1 are office staff of the job's station, dispatcher2 of
# the other; admin is county-wide.
ROLES = ("anon", "own", "other", "crew1", "crew1b", "crew2", "tech1", "tech2", "agent1",
         "disp1", "disp2", "mgr1", "admin")
USERS = {"anon": None, "own": "customer1", "other": "customer2", "crew1": "crew1",
         "crew1b": "crew1b", "crew2": "crew2", "tech1": "tech1", "tech2": "tech2",
         "agent1": "agent1", "disp1": "dispatcher1", "disp2": "dispatcher2",
         "mgr1": "manager1", "admin": "admin"}

SEES = "200 listed"  # 200, and the case's object is in the list (or the pulled changes)
HIDES = "200 hidden"  # 200, and the case's object is not in the list
APPLIED = "200 applied"  # sync push: 200, and the op on the case's job was applied
REJECTED = "200 rejected"  # sync push: 200, and the op was refused (never applied)

# -- the expected table -------------------------------------------------------------------
# state: what the case sets up first (see ``setup``)
#                                             anon own  other crew1 crew1b crew2 tech1 tech2 agent1 disp1 disp2 mgr1 admin
OFFICE_ONLY = (401, 403, 404, 403, 403, 404, 404, 404, 404, 200, 404, 200, 200)
ASSIGNEE_ONLY = (401, 403, 404, 200, 403, 404, 404, 404, 404, 403, 404, 403, 403)
OWNER_OR_OFFICE = (401, 200, 404, 403, 403, 404, 404, 404, 404, 200, 404, 200, 200)
PARTIES = (401, 200, 404, 200, 403, 404, 404, 404, 404, 200, 404, 200, 200)
SEES_JOB = (401, 200, 404, 200, 200, 404, 404, 404, 404, 200, 404, 200, 200)
STAFF = (401, 403, 403, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)
# billing (issue 5)
ACCOUNT_READ = (401, 200, 404, 200, 200, 404, 404, 404, 200, 200, 404, 200, 200)
CASH_HANDLERS = (401, 403, 403, 403, 403, 403, 403, 403, 201, 403, 403, 201, 403)
# a correction of money or counts is recorded for another person's approval (four eyes)
RECORDERS = (401, 403, 403, 403, 403, 403, 403, 403, 202, 403, 403, 202, 403)
BACK_OFFICE = (401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200)
ADMIN_ONLY = (401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 201)
MANAGER_ONLY = (401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 403)
ORDER_READ = (401, 200, 404, 404, 404, 404, 404, 404, 200, 200, 404, 200, 200)
# the dispatch desk (issue 10): office roles only (the role is checked first), then the
# station: another station's job is not found
DESK = (401, 403, 403, 403, 403, 403, 403, 403, 403, 200, 404, 200, 200)
DESK_READ = (401, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200, 200)
DESK_ADMIN = (401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200)
# grid monitoring (issue 12): office roles; the case's area is station 1's
MON_OFFICE = (401, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200, 200)
MON_AREA = (401, 403, 403, 403, 403, 403, 403, 403, 403, 200, 404, 200, 200)
MON_ADMIN = (401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200)
APPRAISE_CREW1 = (401, 404, 404, 200, 404, 404, 404, 404, 404, 200, 404, 200, 200)
PROPOSES_MONEY = (401, 403, 403, 403, 403, 403, 403, 403, 403, 201, 404, 201, 403)
OFFICE_OF_USER = (401, 403, 403, 403, 403, 403, 403, 403, 403, 200, 404, 200, 200)
# supervision (issue 10 part 2): managers and admins (the role is checked first)
SUPERVISES = (401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200)
# business applications (issue 13): the applicant and the desk of its station
APP_READ = (401, 200, 404, 404, 404, 404, 404, 404, 200, 200, 404, 200, 200)
CARE_DESK = (401, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200, 200, 200)

MATRIX: dict[str, tuple[str, tuple[Any, ...]]] = {
    # endpoint                                            state         anon   own    other  crew1  crew1b crew2  tech1  tech2  agent1 disp1  disp2  mgr1   admin
    "GET /api/v1/health":                               ("none",       (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "GET /api/v1/ready":                                ("none",       (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "GET /api/v1/admin/scheduler":                      ("none",       (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   200)),
    "POST /api/v1/auth/token":                          ("none",       (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "POST /api/v1/auth/refresh":                        ("none",       (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "POST /api/v1/auth/logout":                         ("none",       (204,   204,   204,   204,   204,   204,   204,   204,   204,   204,   204,   204,   204)),
    "GET /api/v1/me":                                   ("none",       (401,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "GET /api/v1/stations":                             ("account",    STAFF),
    "GET /api/v1/stations/{station_id}/areas":          ("account",    STAFF),
    "GET /api/v1/stations/{station_id}/staff":          ("account",    (401,   403,   403,   403,   403,   403,   403,   403,   403,   200,   404,   200,   200)),
    "GET /api/v1/accounts":                             ("account",    (401,   SEES,  HIDES, SEES,  SEES,  HIDES, HIDES, HIDES, SEES,  SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/accounts/lookup":                      ("account",    (401,   403,   403,   403,   403,   403,   403,   403,   SEES,  SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/accounts/{account_id}":                ("account",    (401,   200,   404,   200,   200,   404,   404,   404,   200,   200,   404,   200,   200)),
    "GET /api/v1/accounts/{account_id}/readings":       ("account",    (401,   200,   404,   200,   200,   404,   404,   404,   200,   200,   404,   200,   200)),
    "GET /api/v1/meters":                               ("account",    (401,   403,   403,   403,   403,   403,   SEES,  HIDES, SEES,  SEES,  HIDES, SEES,  SEES)),
    "POST /api/v1/work-orders":                         ("none",       (401,   201,   404,   403,   403,   403,   403,   403,   201,   201,   404,   201,   201)),
    "GET /api/v1/work-orders":                          ("dispatched", (401,   SEES,  HIDES, SEES,  SEES,  HIDES, HIDES, HIDES, HIDES, SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/work-orders/{order_id}":               ("dispatched", SEES_JOB),
    "POST /api/v1/work-orders/{order_id}/dispatch":     ("reported",   OFFICE_ONLY),
    "POST /api/v1/work-orders/{order_id}/reassign":     ("dispatched", OFFICE_ONLY),
    "POST /api/v1/work-orders/{order_id}/decline":      ("dispatched", ASSIGNEE_ONLY),
    "POST /api/v1/work-orders/{order_id}/accept":       ("dispatched", ASSIGNEE_ONLY),
    "POST /api/v1/work-orders/{order_id}/start-travel": ("accepted",   ASSIGNEE_ONLY),
    "POST /api/v1/work-orders/{order_id}/arrive":       ("en_route",   ASSIGNEE_ONLY),
    "POST /api/v1/work-orders/{order_id}/add-note":     ("on_site",    PARTIES),
    "POST /api/v1/work-orders/{order_id}/add-photo":    ("on_site",    PARTIES),
    "POST /api/v1/work-orders/{order_id}/request-help": ("on_site",    ASSIGNEE_ONLY),
    "POST /api/v1/work-orders/{order_id}/resolve":      ("on_site",    ASSIGNEE_ONLY),
    "POST /api/v1/work-orders/{order_id}/reopen":       ("resolved",   OWNER_OR_OFFICE),
    "POST /api/v1/work-orders/{order_id}/confirm":      ("resolved",   OWNER_OR_OFFICE),
    "POST /api/v1/work-orders/{order_id}/close":        ("resolved",   OFFICE_ONLY),
    "POST /api/v1/work-orders/{order_id}/cancel":       ("reported",   OWNER_OR_OFFICE),
    # the meter-swap job of the case is assigned to tech1 (crews do not see swap jobs)
    "POST /api/v1/work-orders/{order_id}/meter-swap":   ("swap_on_site", (401, 403,   404,   404,   404,   404,   201,   404,   404,   403,   404,   403,   403)),
    "GET /api/v1/work-orders/{order_id}/meter-swap":    ("swap_recorded", (401, 200,  404,   404,   404,   404,   200,   404,   404,   200,   404,   200,   200)),
    # the case's swap read 1200 fen off a meter whose ledger holds 0: a balance discrepancy
    # (issue 8): the office of the station lists it, managers and admins decide it
    "GET /api/v1/balance-discrepancies":                ("swap_recorded", (401, 403,  403,   403,   403,   403,   403,   403,   403,   SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/balance-discrepancies/{discrepancy_id}": ("swap_recorded", (401, 403, 403,  403,   403,   403,   403,   403,   403,   200,   404,   200,   200)),
    # deciding takes two people (issue 10): dispatchers and managers propose (a pending
    # four-eyes request), another manager or an admin approves it
    "POST /api/v1/balance-discrepancies/{discrepancy_id}/settle": ("swap_recorded", PROPOSES_MONEY),
    "POST /api/v1/balance-discrepancies/{discrepancy_id}/dismiss": ("swap_recorded", PROPOSES_MONEY),
    # devices (issue 8): crew1 signed in on the case's phone; the office of crew1's station
    # (and admins) list crew1's devices, revoke one, and see what it pushed after that
    "GET /api/v1/users/{user_id}/devices":              ("device",     OFFICE_OF_USER),
    "POST /api/v1/users/{user_id}/devices/{device_id}/revoke": ("device", OFFICE_OF_USER),
    "GET /api/v1/users/{user_id}/devices/{device_id}/held-ops": ("device", OFFICE_OF_USER),
    # sync: push an add-note op on the case's on-site fault job; pull the whole scope
    "POST /api/v1/sync/push":                           ("on_site",    (401,   APPLIED, REJECTED, APPLIED, REJECTED, REJECTED, REJECTED, REJECTED, REJECTED, APPLIED, REJECTED, APPLIED, APPLIED)),
    "GET /api/v1/sync/pull":                            ("dispatched", (401,   SEES,  HIDES, SEES,  HIDES, HIDES, HIDES, HIDES, HIDES, SEES,  HIDES, SEES,  SEES)),
    # photos: anyone signed in may ask for / upload bytes by hash (knowing the hash means
    # holding the photo); the bytes are shown only to who sees a job it is attached to
    "GET /api/v1/photos/{sha256}":                      ("photo",      (401,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "PUT /api/v1/photos/{sha256}":                      ("none",       (401,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "GET /api/v1/photos/{sha256}/content":              ("photo",      SEES_JOB),
    # -- prepaid billing (issue 5). Money moves only for agents / managers (cash;
    # corrections, recorded for a second person's approval), managers (refunds, likewise),
    # the customer (online orders); reading imports,
    # policy and checks are back office; tariffs are public to every signed-in user.
    # The provider's callback and the head-end's acks carry no user: their signature
    # decides (each role sends a validly signed repeat / ack: 200).
    "GET /api/v1/billing/accounts/{account_id}/balance":   ("account",  ACCOUNT_READ),
    "GET /api/v1/billing/accounts/{account_id}/ledger":    ("account",  ACCOUNT_READ),
    "GET /api/v1/billing/accounts/{account_id}/usage":     ("account",  ACCOUNT_READ),
    "POST /api/v1/billing/accounts/{account_id}/corrections": ("account", RECORDERS),
    "POST /api/v1/billing/accounts/{account_id}/refunds":  ("funded",   (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   202,   403)),
    "POST /api/v1/billing/cash-recharges":                 ("account",  CASH_HANDLERS),
    "GET /api/v1/billing/cash-recharges/summary":          ("account",  (401,   403,   403,   403,   403,   403,   403,   403,   200,   403,   403,   200,   200)),
    # the station counter (manager, admin) confirms an agent's day; the body here counts
    # wrong on purpose, so a role that gets through is told so (422) and nothing changes
    "GET /api/v1/billing/cash-handovers":                  ("none",     BACK_OFFICE),
    "POST /api/v1/billing/cash-handovers":                 ("funded",   (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   422,   422)),
    # planned outages (issue 15): the office of the areas' station publishes and cancels;
    # everyone signed in lists those that concern them
    "GET /api/v1/outages":                                 ("none",     (401,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "POST /api/v1/outages":                                ("none",     (401,   403,   403,   403,   403,   403,   403,   403,   403,   201,   403,   201,   201)),
    "POST /api/v1/outages/{outage_id}/cancel":             ("outage",   (401,   403,   403,   403,   403,   403,   403,   403,   403,   200,   404,   200,   200)),
    "POST /api/v1/billing/meters/{meter_id}/purchase-count": ("account", RECORDERS),
    "GET /api/v1/billing/purchase-count-corrections":      ("purchase_count", (401, 403, 403,   403,   403,   403,   403,   403,   403,   403,   403,   SEES,  SEES)),
    "GET /api/v1/billing/tariffs":                         ("none",     (401,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "POST /api/v1/billing/tariffs":                        ("none",     ADMIN_ONLY),
    "GET /api/v1/billing/policy":                          ("none",     BACK_OFFICE),
    "PUT /api/v1/billing/policy":                          ("none",     (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   200)),
    "POST /api/v1/billing/readings/import":                ("account",  BACK_OFFICE),
    "POST /api/v1/billing/readings/import-csv":            ("account",  BACK_OFFICE),
    "POST /api/v1/billing/charge-runs":                    ("none",     (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   200)),
    "GET /api/v1/billing/ledger-check":                    ("none",     BACK_OFFICE),
    "POST /api/v1/payments/orders":                        ("account",  (401,   201,   404,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403)),
    "GET /api/v1/payments/orders":                         ("payment",  (401,   SEES,  HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, SEES,  SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/payments/orders/{order_id}":              ("payment",  ORDER_READ),
    "GET /api/v1/payments/orders/{order_id}/receipt":      ("paid",     ORDER_READ),
    "POST /api/v1/payments/callback":                      ("paid",     (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "GET /api/v1/notifications":                           ("paid",     (401,   SEES,  HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES)),
    "POST /api/v1/notifications/{notification_id}/read":   ("paid",     (401,   200,   404,   404,   404,   404,   404,   404,   404,   404,   404,   404,   404)),
    "GET /api/v1/notifications/outbox":                    ("none",     (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   200)),
    "GET /api/v1/meter-commands":                          ("command",  (401,   403,   403,   403,   403,   403,   403,   403,   403,   SEES,  HIDES, SEES,  SEES)),
    "POST /api/v1/meter-commands":                         ("account",  MANAGER_ONLY),
    "POST /api/v1/meter-commands/{command_id}/retry":      ("failed_command", (401, 403, 403,  403,   403,   403,   403,   403,   403,   403,   403,   200,   403)),
    "POST /api/v1/meter-commands/acks":                    ("command",  (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    # -- the dispatch desk (issue 10). Bulk answers 200 with a refusal per job it may not
    # touch (tests/integration/office); duty marks are for managers (and the admin).
    "GET /api/v1/dispatch/board":                          ("dispatched", (401, 403, 403,  403,   403,   403,   403,   403,   403,   SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/dispatch/board/counts":                   ("dispatched", DESK_READ),
    "GET /api/v1/dispatch/jobs/{order_id}":                ("dispatched", DESK),
    "GET /api/v1/dispatch/jobs/{order_id}/suggestions":    ("dispatched", DESK),
    "POST /api/v1/dispatch/jobs/{order_id}/priority":      ("reported",   DESK),
    "POST /api/v1/dispatch/bulk":                          ("reported",   DESK_READ),
    "GET /api/v1/dispatch/roster":                         ("none",       DESK_READ),
    "PUT /api/v1/dispatch/roster/{user_id}/duty":          ("none",       (401, 403, 403,  403,   403,   403,   403,   403,   403,   403,   403,   200,   200)),
    "GET /api/v1/dispatch/changes":                        ("none",       DESK_READ),
    "GET /api/v1/dispatch/map":                            ("none",       DESK_READ),
    "GET /api/v1/dispatch/settings":                       ("none",       (401, 403, 403,  403,   403,   403,   403,   403,   200,   200,   200,   200,   200)),
    "GET /api/v1/dispatch/stall-rules":                    ("none",       DESK_READ),
    "PUT /api/v1/dispatch/stall-rules/{rule_id}":          ("none",       DESK_ADMIN),
    "POST /api/v1/dispatch/stall-rules":                   ("none",       ADMIN_ONLY),
    "POST /api/v1/dispatch/stall-rules/run":               ("none",       DESK_ADMIN),
    # -- grid monitoring (issue 12): the office reads; admins import, run and set; the
    # inspection job's assignee records the finding, staff who see the job read its evidence;
    # a usage inspection is internal: even the account's owner does not see it (404)
    "GET /api/v1/monitoring/overview":                     ("account",  MON_OFFICE),
    "GET /api/v1/monitoring/areas":                        ("account",  MON_OFFICE),
    "GET /api/v1/monitoring/areas/{area_id}":              ("account",  MON_AREA),
    "GET /api/v1/monitoring/areas/{area_id}/load":         ("account",  MON_AREA),
    "GET /api/v1/monitoring/areas/{area_id}/loss":         ("account",  MON_AREA),
    "GET /api/v1/monitoring/collection/heatmap":           ("account",  MON_OFFICE),
    "GET /api/v1/monitoring/collection/failing":           ("account",  MON_OFFICE),
    "GET /api/v1/monitoring/anomalies":                    ("anomaly",  (401,   403,   403,   403,   403,   403,   403,   403,   403,   SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/monitoring/anomalies/{anomaly_id}":       ("anomaly",  MON_AREA),
    "GET /api/v1/monitoring/export/{table}":               ("account",  MON_OFFICE),
    "POST /api/v1/monitoring/intervals/import":            ("account",  MON_ADMIN),
    "POST /api/v1/monitoring/intervals/import-csv":        ("account",  MON_ADMIN),
    "POST /api/v1/monitoring/runs":                        ("none",     MON_ADMIN),
    "GET /api/v1/monitoring/policy":                       ("none",     MON_OFFICE),
    "PUT /api/v1/monitoring/policy":                       ("none",     MON_ADMIN),
    "GET /api/v1/monitoring/loss-norms":                   ("none",     MON_OFFICE),
    "PUT /api/v1/monitoring/loss-norms/{area_class}":      ("none",     MON_ADMIN),
    "PUT /api/v1/monitoring/areas/{area_id}/master-meter": ("none",     MON_ADMIN),
    # -- supervision (issue 10 part 2): agents and managers record money/count changes
    # (dispatchers: discrepancy decisions only), managers and admins approve — never their
    # own; the case's request was recorded by agent1. Reviews, audit and the overview are
    # managers' and admins'; the desk's customer lookup is the desk staff's, by station.
    "GET /api/v1/supervision/approvals":                   ("approval", (401,   403,   403,   403,   403,   403,   403,   403,   SEES,  SEES,  HIDES, SEES,  SEES)),
    "POST /api/v1/supervision/approvals":                  ("account",  (401,   403,   403,   403,   403,   403,   403,   403,   201,   403,   403,   201,   403)),
    "POST /api/v1/supervision/approvals/{request_id}/approve": ("approval", SUPERVISES),
    "POST /api/v1/supervision/approvals/{request_id}/reject":  ("approval", SUPERVISES),
    "GET /api/v1/supervision/reviews":                     ("resolved", (401,   403,   403,   403,   403,   403,   403,   403,   403,   403,   403,   SEES,  SEES)),
    "POST /api/v1/supervision/reviews/{order_id}":         ("resolved", SUPERVISES),
    "PUT /api/v1/supervision/review-rules/{kind}":         ("none",     SUPERVISES),
    "GET /api/v1/supervision/audit":                       ("none",     SUPERVISES),
    "GET /api/v1/supervision/audit.csv":                   ("none",     SUPERVISES),
    "GET /api/v1/supervision/overview":                    ("none",     SUPERVISES),
    "GET /api/v1/customers/search":                        ("account",  (401,   403,   403,   403,   403,   403,   403,   403,   SEES,  SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/customers/{account_id}":                  ("account",  (401,   403,   403,   403,   403,   403,   403,   403,   200,   200,   404,   200,   200)),
    "POST /api/v1/work-orders/{order_id}/inspection-finding": ("inspection_on_site", (401, 404, 404, 201, 403,  404,   404,   404,   403,   403,   404,   403,   403)),
    "GET /api/v1/work-orders/{order_id}/inspection":       ("inspection_on_site", (401, 404, 404, 200, 200,   404,   404,   404,   200,   200,   404,   200,   200)),
    # -- performance appraisal (issue 13): own scorecard for everyone; crew1's for the
    # office of crew1's station; rankings and exports for office staff (their station)
    "GET /api/v1/appraisal/me":                          ("none",     (401,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "GET /api/v1/appraisal/scorecard":                   ("none",     APPRAISE_CREW1),
    "GET /api/v1/appraisal/trend":                       ("none",     APPRAISE_CREW1),
    "GET /api/v1/appraisal/jobs":                        ("none",     APPRAISE_CREW1),
    "GET /api/v1/appraisal/ranking":                     ("none",     DESK_READ),
    "GET /api/v1/appraisal/export":                      ("none",     DESK_READ),
    # business applications (issue 13): customer1 applied for a new connection in station 1
    "POST /api/v1/applications":                       ("none",       (401,   201,   201,   403,   403,   403,   403,   403,   201,   201,   403,   201,   201)),
    "GET /api/v1/applications":                        ("app_submitted", (401, SEES,  HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, SEES,  SEES,  HIDES, SEES,  SEES)),
    "GET /api/v1/applications/{app_id}":               ("app_submitted", APP_READ),
    "GET /api/v1/applications/{app_id}/documents/{sha256}": ("app_submitted", APP_READ),
    "POST /api/v1/applications/{app_id}/{action}":     ("app_submitted", (401, 403,  404,   404,   404,   404,   404,   404,   200,   200,   404,   200,   200)),
    "GET /api/v1/applications/{app_id}/archive":       ("app_completed", (401, 404,  404,   404,   404,   404,   404,   404,   200,   200,   404,   200,   200)),
    "GET /api/v1/applications/{app_id}/workers":       ("app_submitted", (401, 404,  404,   404,   404,   404,   404,   404,   200,   200,   404,   200,   200)),
    # the care list (issue 13): desk staff; the case's account is station 1's
    "GET /api/v1/care/entries":                        ("none",       CARE_DESK),
    "GET /api/v1/care/requests":                       ("none",       CARE_DESK),
    "POST /api/v1/care/requests":                      ("none",       (401,   403,   403,   403,   403,   403,   403,   403,   201,   201,   404,   201,   201)),
    # agent1 asked to add the case's account: anyone else of the desk decides, not agent1
    "POST /api/v1/care/requests/{request_id}/decision": ("care_requested", (401, 403, 403,  403,   403,   403,   403,   403,   403,   200,   404,   200,   200)),
    # the installation job of the case's application is tech1's, on site
    "POST /api/v1/applications/jobs/{order_id}/install": ("app_install_on_site", (401, 404, 404, 403, 403,  404,   200,   404,   403,   403,   404,   403,   403)),
}

FORBIDDEN_CODES = {"FORBIDDEN", "WO_ROLE_NOT_ALLOWED", "WO_NOT_ASSIGNEE", "WO_NOT_OWNER",
                   "APP_ROLE_NOT_ALLOWED", "CARE_OWN_REQUEST"}


# -- one database for the module; every case makes its own objects ----------------------
@dataclass
class Env:
    client: TestClient
    world: World
    db: Any
    tokens: dict[str, str] = field(default_factory=dict)
    shared: dict[str, Case] = field(default_factory=dict)


@pytest.fixture(scope="module")
def env(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    data = tmp_path_factory.mktemp("matrix")
    shutil.copy(template_db, data / "gridone.db")
    app = create_app(sqlite_settings(data, data / "gridone.db"), migrate=False)
    world = build_world(app.state.db)
    # Sign-in is checked 13 times here: store argon2 hashes with light parameters so it
    # costs milliseconds (the real parameters are covered in test_auth_api).
    light = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with app.state.db.writer.begin() as conn:
        conn.execute(update(User).values(password_hash=light))
    with TestClient(app, raise_server_exceptions=False) as client:
        e = Env(client, world, app.state.db)
        for role, name in USERS.items():
            if name:
                e.tokens[role], _ = make_token(secret=SECRET, sub=world.user(name).id,
                                               kind="access", ttl=timedelta(hours=2))
        yield e
    app.state.db.dispose()


_serial = itertools.count(1)


@dataclass
class Case:
    account_id: str
    account_no: str
    meter_no: str
    id_card: str
    station_id: str
    order_id: str = ""
    stock_meter_no: str = ""
    refresh_token: str = ""
    photo: bytes = b""
    meter_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # billing objects of the case

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.photo).hexdigest()


def png(n: int) -> bytes:
    """A tiny PNG of its own for each case."""
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (n % 256, n // 256 % 256, 99)).save(out, format="PNG")
    return out.getvalue()


def new_account(env: Env) -> Case:
    """A fresh account of customer1 in station 1's town area, with an installed meter."""
    n = next(_serial)
    area = env.world.areas["town"]
    id_card = f"43010219800101{n:04d}"
    with Session(env.db.writer, expire_on_commit=False) as s:
        account = Account(account_no=f"88{n:08d}", name=f"Matrix {n}", phone="13900000001",
                          address=f"Matrix Road {n}", station_id=area.station_id,
                          area_id=area.id, owner_user_id=env.world.user("customer1").id,
                          id_card_digest=document_digest(id_card, pepper=PEPPER),
                          id_card_masked=mask_document(id_card))
        s.add(account)
        s.flush()
        meter = Meter(meter_no=f"MX-{n:06d}", model="DDZY-1", status=MeterStatus.INSTALLED,
                      account_id=account.id, area_id=area.id, station_id=area.station_id,
                      last_reading_centi=100_000, last_reading_at=utcnow() - timedelta(days=1))
        s.add(meter)
        s.commit()
    return Case(account.id, account.account_no, meter.meter_no, id_card, area.station_id,
                photo=png(n), meter_id=meter.id)


def add_stock_meter(env: Env, case: Case) -> None:
    case.stock_meter_no = f"MX-NEW-{next(_serial):06d}"
    with Session(env.db.writer) as s:
        s.add(Meter(meter_no=case.stock_meter_no, model="DDZY-2", status=MeterStatus.IN_STOCK,
                    station_id=case.station_id))
        s.commit()


def swap_body(case: Case) -> dict[str, Any]:
    return {"id": new_id(), "old_meter_no": case.meter_no, "old_final_kwh": "1010.00",
            "old_remaining_fen": 1200, "new_meter_no": case.stock_meter_no,
            "new_start_kwh": "0.00", "new_card_no": "6200000000001",
            "seal_numbers": ["SEAL-9001"], "old_face_photo": "e" * 64,
            "new_face_photo": "f" * 64}


_FAULT_STEPS = [  # (state reached, who acts, action, data)
    ("reported", None, None, {}),
    ("dispatched", "dispatcher1", "dispatch", {"assignee": "crew1"}),
    ("accepted", "crew1", "accept", {}),
    ("en_route", "crew1", "start_travel", {}),
    ("on_site", "crew1", "arrive", {}),
    ("resolved", "crew1", "resolve", {"resolution": "fixed"}),
]


def setup(env: Env, state: str, role: str) -> Case:
    """The objects a case needs: "none" (a fresh account and a refresh token of the
    role's user), "account" (and a fault job on it dispatched to crew1, so the station's
    crews see the account), a fault job in a given status, a meter-swap job of tech1 on
    site / with its swap recorded, or an on-site fault job with a photo attached."""
    w, db = env.world, env.db
    case = new_account(env)
    if state == "none":
        user = w.user(USERS[role] or "customer1")
        with UnitOfWork(db) as uow:
            pair = auth_service._issue(uow, user=user, settings=env.client.app.state.settings,
                                       secret=SECRET, family=new_id(), device_id=None)
            uow.commit()
        case.refresh_token = pair.refresh_token
        return case
    if state == "account":
        oid = svc_report(db, w, "customer1", account_id=case.account_id)
        svc_act(db, w, "dispatcher1", oid, "dispatch", assignee_id=w.user("crew1").id)
        return case
    if state.startswith("swap"):
        add_stock_meter(env, case)
        oid = svc_report(db, w, "dispatcher1", kind="meter_swap", account_id=case.account_id)
        svc_act(db, w, "dispatcher1", oid, "dispatch", assignee_id=w.user("tech1").id)
        svc_act(db, w, "tech1", oid, "accept")
        svc_act(db, w, "tech1", oid, "arrive")
        if state == "swap_recorded":
            actor = actor_for(db, "tech1", w)
            with UnitOfWork(db, actor) as uow:
                result = meter_service.record_swap(uow, actor=actor, order_id=oid,
                                                   data=swap_body(case))
                uow.commit()
            with Session(db.reader) as s:
                case.ids["discrepancy_id"] = s.execute(select(BalanceDiscrepancy.id).where(
                    BalanceDiscrepancy.swap_id == result.swap.id)).scalar_one()
            add_stock_meter(env, case)
        case.order_id = oid
        return case
    if state == "photo":
        # crew1 attached the case's photo to the on-site job and uploaded its bytes
        case = setup(env, "on_site", role)
        svc_act(db, w, "crew1", case.order_id, "add_photo", sha256=case.sha256)
        actor = actor_for(db, "crew1", w)
        with UnitOfWork(db, actor) as uow:
            photos.upload_chunk(uow, env.client.app.state.blobs,
                                sha256=case.sha256, offset=0, size=len(case.photo),
                                content_type="image/png", chunk=case.photo,
                                user_id=actor.user_id)
        return case
    if state in _BILLING_STATES:
        setup_billing(env, case, state)
        return case
    if state == "approval":  # agent1 recorded an adjustment of the case's account
        from server.supervision import approvals
        from shared.supervision import ApprovalKind

        actor = actor_for(db, "agent1", w)
        with UnitOfWork(db, actor) as uow:
            row, _ = approvals.record(uow, actor=actor, kind=ApprovalKind.ADJUSTMENT,
                                      account_id=case.account_id, amount_fen=100,
                                      reason="matrix: overcharged")
            uow.commit()
        case.ids["request_id"] = row.id
        return case
    if state in _APP_STATES:
        setup_applications(env, case, state)
        return case
    if state == "care_requested":
        from server.care import service as care

        agent = actor_for(db, "agent1", w)
        with UnitOfWork(db, agent) as uow:
            req = care.request_change(uow, actor=agent, account_id=case.account_id,
                                      data=care_body(case))
            uow.commit()
        case.ids["request_id"] = req.id
        return case
    if state in _MONITORING_STATES:
        setup_monitoring(env, case, state)
        return case
    if state == "outage":
        from server.outages import service as outages

        actor = actor_for(db, "dispatcher1", w)
        with UnitOfWork(db, actor) as uow:
            outage, _ = outages.publish(uow, actor=actor, data={
                **outage_body(env), "starts_at": utcnow() + timedelta(days=1),
                "ends_at": utcnow() + timedelta(days=1, hours=4)})
            uow.commit()
        case.ids["outage_id"] = outage.id
        return case
    if state == "device":
        device = f"matrix-device-{next(_serial):06d}"
        with UnitOfWork(db) as uow:
            auth_service._issue(uow, user=w.user("crew1"), secret=SECRET, family=new_id(),
                                settings=env.client.app.state.settings, device_id=device)
            uow.commit()
        case.ids.update(user_id=w.user("crew1").id, device_id=device)
        return case
    oid = svc_report(db, w, "customer1", account_id=case.account_id)
    for reached, who, action, data in _FAULT_STEPS:
        if action:
            if "assignee" in data:
                data = {"assignee_id": w.user(data["assignee"]).id}
            svc_act(db, w, who, oid, action, **data)
        if reached == state:
            break
    else:
        raise AssertionError(f"unknown state {state}")
    case.order_id = oid
    return case


# -- billing (issue 5): its objects and requests --------------------------------------------
_BILLING_STATES = ("funded", "payment", "paid", "purchase_count", "command", "failed_command")
_LISTED_BY_ACCOUNT = ("GET /api/v1/payments/orders", "GET /api/v1/notifications",
                      "GET /api/v1/meter-commands",
                      "GET /api/v1/billing/purchase-count-corrections",
                      "GET /api/v1/balance-discrepancies",
                      "GET /api/v1/supervision/approvals")


def setup_billing(env: Env, case: Case, state: str) -> None:
    """"funded": 50 yuan of cash on the account (agent1); "payment": customer1's pending
    online order; "paid": that order paid and credited (its notification in the inbox);
    "purchase_count": a correction of the meter's purchase count; "command": a queued
    disconnect of the meter; "failed_command": one that was never acknowledged."""
    from server.billing import recharges
    from server.billing.ledger import lock_account
    from server.meter_commands import service as meter_commands
    from server.notifications.models import Notification
    from server.payments import service as payments
    from server.supervision import approvals
    from shared.supervision import ApprovalKind

    db, w = env.db, env.world
    app = env.client.app
    if state == "funded":
        agent = actor_for(db, "agent1", w)
        with UnitOfWork(db, agent) as uow:
            recharges.record_cash(uow, actor=agent, receipt_id=new_id(),
                                  account_id=case.account_id, amount_fen=5000,
                                  receipt_no=f"RC-MX-{next(_serial):06d}")
            uow.commit()
    elif state in ("payment", "paid"):
        order, _ = payments.create_order(db, actor=actor_for(db, "customer1", w),
                                         account_id=case.account_id, amount_fen=1000,
                                         idempotency_key=f"matrix-{new_id()}",
                                         provider=app.state.payment_provider)
        case.order_id = order.id
        case.ids["txn_id"] = order.provider_txn_id or ""
        if state == "paid":
            app.state.payment_provider.decide(order.provider_txn_id, approve=True)
            for event in app.state.payment_provider.events(order.provider_txn_id):
                body, signature = app.state.payment_provider.signed(event)
                payments.handle_callback(db, key=app.state.payment_key, body=body,
                                         signature=signature)
            with Session(db.reader) as s:
                note = s.exec(select(Notification).where(
                    Notification.account_id == case.account_id)).scalars().first()
                case.ids["notification_id"] = note.id
    elif state == "purchase_count":  # recorded by the agent, approved by the manager
        agent, manager = actor_for(db, "agent1", w), actor_for(db, "manager1", w)
        with UnitOfWork(db, agent) as uow:
            req, _ = approvals.record(uow, actor=agent, kind=ApprovalKind.PURCHASE_COUNT,
                                      meter_id=case.meter_id, new_count=2,
                                      reason="matrix set-up")
            uow.commit()
        with UnitOfWork(db, manager) as uow:
            approvals.decide(uow, actor=manager, request_id=req.id, approve=True)
            uow.commit()
    elif state in ("command", "failed_command"):
        with UnitOfWork(db) as uow:
            account = lock_account(uow.session, case.account_id)
            meter = uow.session.get(Meter, case.meter_id)
            cmd = meter_commands.request(uow, account=account, meter=meter, kind="disconnect",
                                         reason="matrix set-up", origin="auto", at=utcnow())
            if state == "failed_command":
                cmd.state, cmd.error = "failed", "no acknowledgement after 12 sends"
            uow.commit()
        case.ids["command_id"] = cmd.id


def build_billing(endpoint: str, method: str, url: str, case: Case, env: Env
                  ) -> Request | None:
    from server.billing.signing import derive_key
    from server.meter_commands.headend import signed_ack

    w, serial = env.world, next(_serial)
    yesterday = (utcnow() - timedelta(days=1)).date()
    row = {"meter_no": case.meter_no, "read_at": (utcnow() - timedelta(hours=1)).isoformat(),
           "value_kwh": "1000.50", "source": "actual"}
    simple: dict[str, Any] = {
        "POST /api/v1/billing/accounts/{account_id}/corrections": {
            "id": new_id(), "amount_fen": 150, "reason": "matrix: misread"},
        "POST /api/v1/billing/accounts/{account_id}/refunds": {
            "id": new_id(), "amount_fen": 100, "reason": "matrix: paid back"},
        "POST /api/v1/billing/cash-recharges": {
            "id": new_id(), "account_id": case.account_id, "amount_fen": 1000,
            "receipt_no": f"RC-MATRIX-{serial:06d}"},
        "POST /api/v1/billing/meters/{meter_id}/purchase-count": {
            "new_count": 3, "reason": "matrix: recount"},
        "POST /api/v1/billing/tariffs": {
            "code": f"MX-{serial}", "customer_type": "residential",
            "effective_from": (yesterday + timedelta(days=3650 + serial)).isoformat(),
            "data": {"prices": ["0.6"], "seasons": [{"months": list(range(1, 13)),
                                                      "bounds_kwh": []}]}},
        "PUT /api/v1/billing/policy": {"low_days": 3},
        "POST /api/v1/billing/readings/import": {"rows": [row]},
        "POST /api/v1/billing/charge-runs": {"day": yesterday.isoformat()},
        "POST /api/v1/payments/orders": {
            "account_id": case.account_id, "amount_fen": 1000,
            "idempotency_key": f"matrix-{serial}-{new_id()}"},
        "POST /api/v1/meter-commands": {
            "account_id": case.account_id, "kind": "disconnect", "reason": "matrix: decided"},
        "POST /api/v1/notifications/{notification_id}/read": {},
        "POST /api/v1/meter-commands/{command_id}/retry": {},
        "POST /api/v1/balance-discrepancies/{discrepancy_id}/settle": {
            "reason": "matrix: the meter photo is right"},
        "POST /api/v1/balance-discrepancies/{discrepancy_id}/dismiss": {
            "reason": "matrix: the ledger is right"},
        "POST /api/v1/users/{user_id}/devices/{device_id}/revoke": {
            "reason": "matrix: phone lost"},
    }
    if endpoint in simple:
        return Request(method, url, json=simple[endpoint])
    if endpoint == "GET /api/v1/billing/cash-recharges/summary":
        return Request(method, url, params={"agent_id": w.user("agent1").id})
    if endpoint == "POST /api/v1/billing/cash-handovers":
        return Request(method, url, json={
            "agent_id": w.user("agent1").id, "receipt_count": 0, "total_fen": 0,
            "day": utcnow().astimezone(LOCAL_TZ).date().isoformat()})
    if endpoint == "POST /api/v1/outages":
        return Request(method, url, json=outage_body(env))
    if endpoint == "POST /api/v1/billing/readings/import-csv":
        csv = ("meter_no,read_at,value_kwh,source\n"
               f"{row['meter_no']},{row['read_at']},{row['value_kwh']},actual\n")
        return Request(method, url, content=csv.encode(), headers={"Content-Type": "text/csv"})
    if endpoint == "POST /api/v1/payments/callback":
        provider = env.client.app.state.payment_provider
        paid = provider.events(case.ids["txn_id"])[-1]  # a repeat of the paid notice
        body, signature = provider.signed(paid)
        return Request(method, url, content=body, headers={
            "X-Signature": signature, "Content-Type": "application/json"})
    if endpoint == "POST /api/v1/meter-commands/acks":
        ack = {"command_id": case.ids["command_id"], "seq": 1, "result": "ok",
               "relay": "off"}
        body, signature = signed_ack(derive_key(SECRET, "head-end"), ack)
        return Request(method, url, content=body, headers={
            "X-Signature": signature, "Content-Type": "application/json"})
    return None


def outage_body(env: Env) -> dict[str, Any]:
    """A notice for station 1's town area (the cases' accounts are there), tomorrow."""
    start = utcnow() + timedelta(days=1)
    return {"area_ids": [env.world.areas["town"].id], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=4)).isoformat(), "reason": "matrix: works"}


# -- the dispatch desk (issue 10) -------------------------------------------------------------
def first_rule_id(env: Env) -> str:
    from server.dispatch.models import StallRule

    with Session(env.db.reader) as s:
        return str(s.execute(select(StallRule.id).order_by(StallRule.id)).scalars().first())


def build_desk(endpoint: str, method: str, url: str, case: Case, env: Env) -> Request | None:
    bodies: dict[str, Any] = {
        "POST /api/v1/dispatch/jobs/{order_id}/priority": {"priority": "urgent"},
        "POST /api/v1/dispatch/bulk": {"action": "set_priority", "priority": "high",
                                       "order_ids": [case.order_id]},
        "PUT /api/v1/dispatch/roster/{user_id}/duty": {"on_duty": True},
        "PUT /api/v1/dispatch/stall-rules/{rule_id}": {"threshold": 15},
        "POST /api/v1/dispatch/stall-rules": {"trigger": "no_progress", "kind": "care_visit",
                                              "threshold": 120, "escalate_after_min": 60},
        "POST /api/v1/dispatch/stall-rules/run": {},
        # supervision (issue 10 part 2)
        "POST /api/v1/supervision/approvals": {"kind": "adjustment", "amount_fen": 100,
                                               "account_id": case.account_id,
                                               "reason": "matrix: overcharged"},
        "POST /api/v1/supervision/approvals/{request_id}/approve": {},
        "POST /api/v1/supervision/approvals/{request_id}/reject": {"reason": "no receipt"},
        "POST /api/v1/supervision/reviews/{order_id}": {"outcome": "returned",
                                                         "reason": "photo missing"},
        "PUT /api/v1/supervision/review-rules/{kind}": {"percent": 100},
    }
    if endpoint in bodies:
        return Request(method, url, json=bodies[endpoint])
    if endpoint == "GET /api/v1/dispatch/board":
        return Request(method, url, params={"list": "dispatched", "q": case.account_no})
    if endpoint == "GET /api/v1/customers/search":
        return Request(method, url, params={"q": case.account_no})
    return None


# -- the request of each endpoint -------------------------------------------------------
@dataclass
class Request:
    method: str
    url: str
    json: Any = None
    data: Any = None
    params: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def build(endpoint: str, case: Case, env: Env, role: str) -> Request:
    method, path = endpoint.split(" ", 1)
    w = env.world
    monitoring = build_monitoring(endpoint, method, path, case, env)
    if monitoring is not None:
        return monitoring
    if path.startswith("/api/v1/appraisal/"):
        return Request(method, path, params={"subject": f"user:{w.user('crew1').id}",
                                             "figure": "handled"})
    apps = build_applications(endpoint, method, path, case, env)
    if apps is not None:
        return apps
    url = path.format(station_id=case.station_id, account_id=case.account_id,
                      order_id=case.order_id, sha256=case.sha256, meter_id=case.meter_id,
                      rule_id=first_rule_id(env),
                      notification_id=case.ids.get("notification_id", ""),
                      command_id=case.ids.get("command_id", ""),
                      discrepancy_id=case.ids.get("discrepancy_id", ""),
                      user_id=case.ids.get("user_id") or w.user("crew1").id,
                      device_id=case.ids.get("device_id", ""),
                      request_id=case.ids.get("request_id", ""), kind="care_visit",
                      outage_id=case.ids.get("outage_id", ""))
    action = path.rsplit("/", 1)[-1]
    bodies: dict[str, Any] = {
        "dispatch": {"assignee_id": w.user("crew1").id},
        "reassign": {"assignee_id": w.user("crew1b").id, "reason": "crew1 is off sick"},
        "decline": {"reason": "busy on another outage"},
        "accept": {}, "start-travel": {},
        "arrive": {"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 10}},
        "add-note": {"text": "note"}, "add-photo": {"sha256": "9" * 64},
        "request-help": {"reason": "need a second pair of hands"},
        "resolve": {"resolution": "replaced the fuse"},
        "reopen": {"reason": "out again"}, "confirm": {"rating": 4, "comment": "ok"},
        "close": {}, "cancel": {"reason": "no longer needed"},
    }
    if endpoint == "POST /api/v1/auth/token":
        return Request(method, url, data={"username": USERS[role] or "customer1",
                                          "password": PASSWORD})
    if endpoint in ("POST /api/v1/auth/refresh", "POST /api/v1/auth/logout"):
        return Request(method, url, json={"refresh_token": case.refresh_token})
    if endpoint == "POST /api/v1/work-orders":
        return Request(method, url, json={"account_id": case.account_id,
                                          "description": "matrix: no power"})
    if endpoint == "POST /api/v1/work-orders/{order_id}/meter-swap":
        return Request(method, url, json=swap_body(case))
    if endpoint == "GET /api/v1/accounts":
        return Request(method, url, params={"q": case.account_no})
    if endpoint == "GET /api/v1/accounts/lookup":
        return Request(method, url, params={"id_card": case.id_card})
    if endpoint == "GET /api/v1/meters":
        return Request(method, url, params={"meter_no": case.meter_no})
    if endpoint == "GET /api/v1/work-orders":
        return Request(method, url, params={"account_id": case.account_id})
    if endpoint == "POST /api/v1/sync/push":
        now = utcnow().isoformat()
        device = f"matrix-{role}-device"
        return Request(method, url, json={
            "protocol": 1, "device_id": device, "sent_at": now, "ops": [{
                "op_id": new_id(), "device_id": device, "device_seq": next(_serial),
                "lane": f"work_order:{case.order_id}", "type": "work_order.add_note@1",
                "entity_id": case.order_id, "payload": {"text": "from the field"},
                "created_at": now}]})
    if endpoint == "GET /api/v1/sync/pull":
        return Request(method, url, params={"limit": 5000})
    if endpoint == "PUT /api/v1/photos/{sha256}":
        return Request(method, url, params={"offset": 0}, content=case.photo,
                       headers={"X-Photo-Size": str(len(case.photo)),
                                "X-Photo-Type": "image/png",
                                "Content-Type": "application/octet-stream"})
    billing = build_billing(endpoint, method, url, case, env)
    if billing is not None:
        return billing
    desk = build_desk(endpoint, method, url, case, env)
    if desk is not None:
        return desk

    if method == "POST":
        return Request(method, url, json=bodies[action])
    return Request(method, url)


# -- business applications (issue 13): their objects and requests ---------------------------
_APP_STATES = ("app_submitted", "app_install_on_site", "app_completed")
_APP_ID_CARD = "11010519491231002X"


def _app_docs(env: Env, actor: Any, shas: list[bytes]) -> None:
    for data in shas:
        with UnitOfWork(env.db, actor) as uow:
            photos.upload_chunk(uow, env.client.app.state.blobs,
                                sha256=hashlib.sha256(data).hexdigest(), offset=0,
                                size=len(data), content_type="image/png", chunk=data,
                                user_id=actor.user_id)


def app_body(case: Case, env: Env, *, kind: str = "new_residential") -> dict[str, Any]:
    n = next(_serial)
    docs = {"id_card": hashlib.sha256(png(n)).hexdigest()}
    if kind == "new_residential":
        docs["property_cert"] = hashlib.sha256(png(n + 1)).hexdigest()
        return {"id": new_id(), "kind": kind, "applicant_name": "Matrix applicant",
                "contact_phone": "13900000002", "address": "Matrix Road 9",
                "id_card_no": _APP_ID_CARD, "capacity_kw": 8, "station_id": case.station_id,
                "documents": docs, "_png": [png(n), png(n + 1)]}
    return {"id": new_id(), "kind": kind, "applicant_name": "Matrix applicant",
            "contact_phone": "13900000003", "address": "Matrix Road 9",
            "id_card_no": _APP_ID_CARD, "account_id": case.account_id, "documents": docs,
            "_png": [png(n)]}


def setup_applications(env: Env, case: Case, state: str) -> None:
    """"app_submitted": customer1's new-connection application with its two document
    photos received; "app_install_on_site": that application accepted, surveyed by crew1,
    approved by manager1, its installation job on site (tech1), a meter in stock;
    "app_completed": a contact change of the case's account, completed and archived."""
    from server.applications import service as apps
    from shared.applications.rules import AppAction

    db, w = env.db, env.world
    cust = actor_for(db, "customer1", w)
    kind = "contact_change" if state == "app_completed" else "new_residential"
    data = app_body(case, env, kind=kind)
    pngs = data.pop("_png")
    with UnitOfWork(db, cust) as uow:
        app, _ = apps.submit(uow, actor=cust, app_id=data["id"], data=data, pepper=PEPPER)
        uow.commit()
    _app_docs(env, cust, pngs)
    case.ids["app_id"] = app.id
    case.photo = pngs[0]  # the document the documents endpoint serves
    if state == "app_submitted":
        return
    agent = actor_for(db, "agent1", w)
    with UnitOfWork(db, agent) as uow:
        app = apps.act(uow, actor=agent, app_id=app.id, action=AppAction.ACCEPT,
                       data={"area_id": w.areas["town"].id, "assignee_id": w.user("crew1").id})
        uow.commit()
    if state == "app_completed":
        return
    survey = app.survey_order_id
    for action, extra in (("accept", {}), ("arrive", {}), ("resolve", {"resolution": "ok"})):
        svc_act(db, w, "crew1", survey, action, **extra)
    mgr = actor_for(db, "manager1", w)
    with UnitOfWork(db, mgr) as uow:
        app = apps.act(uow, actor=mgr, app_id=app.id, action=AppAction.APPROVE,
                       data={"assignee_id": w.user("tech1").id})
        uow.commit()
    svc_act(db, w, "tech1", app.install_order_id, "accept")
    svc_act(db, w, "tech1", app.install_order_id, "arrive")
    case.order_id = app.install_order_id
    add_stock_meter(env, case)


def care_body(case: Case) -> dict[str, Any]:
    return {"change": "add", "category": "elderly_alone", "reason": "matrix: lives alone",
            "review_on": (utcnow() + timedelta(days=60)).date().isoformat()}


def build_applications(endpoint: str, method: str, path: str, case: Case, env: Env
                       ) -> Request | None:
    if "/api/v1/care/" in path:
        url = path.format(request_id=case.ids.get("request_id", ""))
        if endpoint == "POST /api/v1/care/requests":
            return Request(method, url, json={"account_id": case.account_id,
                                              **care_body(case)})
        if method == "POST":
            return Request(method, url, json={"approve": True})
        return Request(method, url)
    if "/api/v1/applications" not in path:
        return None
    url = path.format(app_id=case.ids.get("app_id", ""), action="accept",
                      order_id=case.order_id, sha256=case.sha256)
    if endpoint == "POST /api/v1/applications":
        body = app_body(case, env)
        body.pop("_png")
        return Request(method, url, json=body)
    if endpoint == "POST /api/v1/applications/{app_id}/{action}":
        return Request(method, url, json={"area_id": env.world.areas["town"].id})
    if endpoint == "POST /api/v1/applications/jobs/{order_id}/install":
        return Request(method, url, json={"meter_no": case.stock_meter_no, "start_kwh": "0",
                                          "card_no": "62000000009"})
    return Request(method, url)


# -- grid monitoring (issue 12): its objects and requests -------------------------------------
_MONITORING_STATES = ("anomaly", "inspection_on_site")


def setup_monitoring(env: Env, case: Case, state: str) -> None:
    """"anomaly": a loss suspect on the case's meter in station 1's town area;
    "inspection_on_site": a usage-inspection job on the case's account, crew1 on site."""
    from server.monitoring.models import Anomaly

    w, db = env.world, env.db
    if state == "anomaly":
        town = w.areas["town"]
        with Session(db.writer) as s:
            row = Anomaly(kind="loss_suspect", status="open", open_key=f"matrix:{case.meter_id}",
                          station_id=town.station_id, area_id=town.id, meter_id=case.meter_id,
                          account_id=case.account_id, first_day=utcnow().date(),
                          last_day=utcnow().date(), evidence={"meter_no": case.meter_no})
            s.add(row)
            s.commit()
            case.ids["anomaly_id"] = row.id
        return
    oid = svc_report(db, w, "dispatcher1", kind="usage_inspection", account_id=case.account_id,
                     description="matrix: check the meter")
    svc_act(db, w, "dispatcher1", oid, "dispatch", assignee_id=w.user("crew1").id)
    svc_act(db, w, "crew1", oid, "accept")
    svc_act(db, w, "crew1", oid, "arrive")
    case.order_id = oid


def build_monitoring(endpoint: str, method: str, path: str, case: Case, env: Env
                     ) -> Request | None:
    if "/monitoring/" not in path and not path.endswith(("/inspection", "/inspection-finding")):
        return None
    url = path.format(area_id=env.world.areas["town"].id, order_id=case.order_id,
                      anomaly_id=case.ids.get("anomaly_id", ""), table="areas",
                      area_class="town")
    yesterday = utcnow() - timedelta(days=1)
    start = yesterday.replace(minute=0, second=0, microsecond=0).isoformat()
    row = {"meter_no": case.meter_no, "interval_start": start, "energy_kwh": "0.250"}
    bodies: dict[str, Any] = {
        "POST /api/v1/monitoring/intervals/import": {"rows": [row]},
        "POST /api/v1/monitoring/runs": {},
        "PUT /api/v1/monitoring/policy": {"failing_days": 3},
        "PUT /api/v1/monitoring/loss-norms/{area_class}": {"low": 0.0, "high": 0.1,
                                                           "jump": 0.05},
        "PUT /api/v1/monitoring/areas/{area_id}/master-meter": {"meter_no": "SUP-MATRIX"},
        "POST /api/v1/work-orders/{order_id}/inspection-finding": {
            "id": new_id(), "outcome": "meter_ok", "register_kwh": "1001.00"},
    }
    if endpoint == "POST /api/v1/monitoring/intervals/import-csv":
        return Request(method, url, content=(
            "meter_no,interval_start,energy_kwh,source\n"
            f"{case.meter_no},{start},0.250,actual\n").encode(),
            headers={"Content-Type": "text/csv"})
    if method in ("POST", "PUT"):
        return Request(method, url, json=bodies[endpoint])
    return Request(method, url)


def listed(endpoint: str, body: Any, case: Case) -> bool:
    if endpoint == "GET /api/v1/applications":
        return any(a["id"] == case.ids["app_id"] for a in body["items"])
    if endpoint == "GET /api/v1/monitoring/anomalies":
        return any(r["id"] == case.ids.get("anomaly_id") for r in body["table"]["rows"])
    if endpoint in _LISTED_BY_ACCOUNT:
        items = body["items"] if isinstance(body, dict) else body
        return any(item.get("account_id") == case.account_id for item in items)
    if endpoint == "GET /api/v1/sync/pull":
        return any(c["entity"] == "work_order" and c["id"] == case.order_id
                   for c in body["changes"])
    items = body["items"] if isinstance(body, dict) else body
    key = {"GET /api/v1/work-orders": case.order_id, "GET /api/v1/meters": case.meter_no,
           "GET /api/v1/dispatch/board": case.order_id,
           "GET /api/v1/supervision/reviews": case.order_id}
    wanted = key.get(endpoint, case.account_id)
    return any(wanted in (item.get("id"), item.get("meter_no")) for item in items)


#: The sync layer records each pushed op's outcome (also a rejection) and the device; the
#: rate limits count every request (also a refused one) against its budget.
_SYNC_BOOKKEEPING = ("applied_op", "device", "rate_limit")


def fingerprint(env: Env, case: Case) -> Any:
    """Cheap but thorough enough: row counts of every table, and the case's job."""
    tables = [t for t in metadata.sorted_tables if t.name not in _SYNC_BOOKKEEPING]
    with Session(env.db.reader) as s:
        counts = dict(zip([t.name for t in tables], s.execute(select(
            *[select(func.count()).select_from(t).scalar_subquery() for t in tables])).one(),
            strict=True))
        order = s.get(WorkOrder, case.order_id) if case.order_id else None
        return counts, order.model_dump(warnings=False) if order else None


# -- the tests -----------------------------------------------------------------------------
def test_every_endpoint_has_a_row_in_the_matrix(env):
    documented = {f"{method.upper()} {path}"
                  for path, ops in env.client.app.openapi()["paths"].items() for method in ops}
    assert sorted(documented - set(MATRIX)) == [], "endpoints missing from the matrix"
    assert sorted(set(MATRIX) - documented) == [], "matrix rows for endpoints that are gone"
    for endpoint, (_state, expected) in MATRIX.items():
        assert len(expected) == len(ROLES), endpoint


CASES = [(endpoint, role) for endpoint in MATRIX for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e} [{r}]" for e, r in CASES])
def test_matrix(env, endpoint, role):
    state, row = MATRIX[endpoint]
    expected = row[ROLES.index(role)]
    status = int(str(expected).split()[0])
    # A request that changes things when allowed gets objects of its own; the others
    # (reads, and refusals, which must change nothing) share the endpoint's objects.
    changes = endpoint.split()[0] != "GET" and (status < 300 or state == "none")
    if changes or endpoint not in env.shared:
        case = setup(env, state, role)
        if not changes:
            env.shared[endpoint] = case
    else:
        case = env.shared[endpoint]
    req = build(endpoint, case, env, role)
    headers = {"Accept-Language": "en"}
    if role != "anon":
        headers["Authorization"] = f"Bearer {env.tokens[role]}"
    checked = status >= 400 or expected in (APPLIED, REJECTED)
    before = fingerprint(env, case) if checked else None
    r = env.client.request(req.method, req.url, json=req.json, data=req.data,
                           content=req.content, params=req.params,
                           headers={**headers, **req.headers})
    if expected == SEES and endpoint == "GET /api/v1/sync/pull":
        r = pull_everything(env, r, headers)
    assert r.status_code == status, f"{endpoint} as {role}: {r.status_code} {r.text[:300]}"
    if status >= 400:
        body = r.json()
        assert set(body) == {"code", "message", "details"}
        if status == 401:
            assert body["code"] == "AUTH_REQUIRED"
        elif status == 403:
            assert body["code"] in FORBIDDEN_CODES, body
        elif status == 404:
            assert body["code"].endswith("NOT_FOUND"), body
        assert fingerprint(env, case) == before, "a refused request changed the database"
    if expected in (SEES, HIDES):
        assert listed(endpoint, r.json(), case) == (expected == SEES), r.text[:500]
    if expected in (APPLIED, REJECTED):
        (result,) = r.json()["results"]
        assert result["status"] == expected.split()[1], result
        if expected == REJECTED:
            assert result["code"] in FORBIDDEN_CODES | {"WORK_ORDER_NOT_FOUND"}, result
            assert fingerprint(env, case) == before, "a rejected op changed the database"
        else:
            assert fingerprint(env, case) != before


def pull_everything(env: Env, first: Any, headers: dict[str, str]) -> Any:
    """Follow ``has_more`` so a wide scope's full download is seen whole."""
    body = first.json()
    changes = list(body["changes"])
    while body["has_more"]:
        nxt = env.client.get("/api/v1/sync/pull", headers=headers,
                             params={"cursor": body["next_cursor"], "limit": 5000})
        assert nxt.status_code == 200, nxt.text
        body = nxt.json()
        changes += body["changes"]

    class Whole:
        status_code = first.status_code
        text = first.text

        @staticmethod
        def json() -> Any:
            return {**body, "changes": changes}

    return Whole()


def test_matrix_helpers_can_tell_listed_from_hidden(env):
    """Guard against a vacuous SEES/HIDES check: the filter must find the case's object."""
    case = setup(env, "dispatched", "disp1")
    headers = {"Authorization": f"Bearer {env.tokens['disp1']}"}
    for endpoint in ("GET /api/v1/work-orders", "GET /api/v1/accounts", "GET /api/v1/meters"):
        req = build(endpoint, case, env, "disp1")
        body = env.client.get(req.url, params=req.params, headers=headers).json()
        assert listed(endpoint, body, case), endpoint
        other = new_account(env)
        assert not listed(endpoint, body, other), endpoint

