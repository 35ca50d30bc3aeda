"""Every supervision page drawn at desktop (1440x900) and tablet (1024x768) size, in
English and Chinese, by an administrator (who sees them all): each shows its own content,
no text with a placeholder left in it, and the app logs no error. The screenshots go to
``$GRIDONE_SHOTS`` (default /tmp/super-shots) to be looked at."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from mobile.office.i18n import t
from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import DESKTOP, TABLET, Office, desk_app, python_errors  # noqa: F401
from tests.e2e.office.test_supervision_desk import resolved_job
from tests.e2e.world import account
from tests.factories import PASSWORD

SHOTS = Path(os.environ.get("GRIDONE_SHOTS", "/tmp/super-shots"))
#: page label (en, zh) and a text the page shows (en, zh)
PAGES = (
    (("Customer lookup", "客户查询"), ("ID-card", "身份证")),
    (("Station overview", "所内概况"), ("Crews' load", "人员负荷")),
    (("Review queue", "完工审核"), ("Sample rule", "抽样规则")),
    (("Approvals", "双人审批"), ("Pending", "待审批")),
    (("Audit log", "审计日志"), ("Export CSV", "导出 CSV")),
)


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_every_supervision_page_in_both_languages(
        api: ApiServer, desk_app: str, browser: Any, e2e_dir: Path, size: str) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    # something on every page: a resolved job to review, a request waiting for approval
    job = resolved_job(api, f"Screens ({size}): the street light pole leans")
    with api.client("agent1") as c:
        c.post("/api/v1/supervision/approvals", json={
            "kind": "adjustment", "account_id": account(api)["id"], "amount_fen": -830,
            "reason": f"Charged twice on 11-28 ({size})"}).raise_for_status()
    office = Office(browser, desk_app, f"screens-{size}",
                    viewport=DESKTOP if size == "desktop" else TABLET)
    try:
        office.open()
        office.sign_in_office("admin", PASSWORD)
        for i, lang in enumerate(("en", "zh")):
            if lang == "zh":
                office.tap("中文", exact=True, settle=1.0)
            for (name, text) in PAGES:
                office.rail(name[i])
                office.see(re.compile(re.escape(text[i])))
                if name[0] == "Customer lookup":
                    office.fill(t("customer_search", lang), "7700000100")
                    office.tap(t("search", lang), exact=True, settle=1.0)
                    office.see("张伟")
                if name[0] == "Review queue":
                    office.page.get_by_role("cell", name=re.compile(job["code"])).first.click()
                    office.see(re.compile("Replaced the blown fuse"))
                left = office.unfilled()
                assert left == [], (name[0], lang, left)
                time.sleep(0.5)
                office.page.screenshot(
                    path=str(SHOTS / f"{name[0].lower().replace(' ', '-')}-{size}-{lang}.png"))
        assert office.errors == [], office.errors
        assert python_errors(e2e_dir / "desk-app.log") == []
    finally:
        office.close()
