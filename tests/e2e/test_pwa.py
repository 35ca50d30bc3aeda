"""The web build is an installable PWA with GridOne's name, icons and colour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mobile.main import ASSETS
from tests.e2e.phone import Phone
from tests.factories import PASSWORD


def test_the_browser_gets_gridones_manifest_icons_and_theme(app_url: str,
                                                           browser: Any) -> None:
    phone = Phone(browser, app_url, "pwa")
    try:
        phone.open()
        page = phone.page
        assert page.title() == "GridOne"
        colours = page.locator('meta[name="theme-color"]').evaluate_all(
            "els => els.map(e => e.content.toLowerCase())")
        assert colours[0] == "#007a5e"  # ours; Flutter adds the theme's primary after it
        assert "#ff005f" not in colours  # Flet's default pink
        href = page.locator('link[rel="manifest"]').get_attribute("href")
        manifest = page.request.get(f"{app_url}/{href}").json()
        assert manifest["short_name"] == "GridOne"
        assert manifest["name"].startswith("GridOne")
        assert manifest["theme_color"] == "#007A5E"
        assert "Flet" not in str(manifest)
        for icon in manifest["icons"]:
            served = page.request.get(f"{app_url}/{icon['src']}").body()
            assert served == (Path(ASSETS) / icon["src"]).read_bytes(), icon["src"]
        favicon = page.request.get(f"{app_url}/favicon.png").body()
        assert favicon == (Path(ASSETS) / "favicon.png").read_bytes()
        phone.shot("login")
    finally:
        phone.close()


def test_two_browser_tabs_signed_in_as_two_users_are_two_phones(app_url: str,
                                                                browser: Any) -> None:
    crew = Phone(browser, app_url, "two-crew")
    customer = Phone(browser, app_url, "two-customer")
    try:
        crew.open()
        customer.open()
        crew.sign_in("crew2", PASSWORD)
        customer.sign_in("customer3", PASSWORD)
        crew.see("My jobs")
        customer.see("My accounts")
        customer.see("7700000002")
        crew.tab("Settings")
        customer.tab("Settings")
        crew.see("Crew2 (Repair crew)")
        customer.see("Customer3 (Customer)")
        ids = [re.search(r"Device id ([0-9a-f]{8})", p.snapshot()) for p in (crew, customer)]
        assert all(ids) and ids[0].group(1) != ids[1].group(1)  # type: ignore[union-attr]
        crew.shot("settings")
        customer.shot("settings")
    finally:
        crew.close()
        customer.close()
