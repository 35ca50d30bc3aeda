"""A renderer that trapped: the app reloads the page by itself and the screen comes back as
it was; within a minute of that it does not reload again, and the browser tests' phone
reloads it as a person would. Without a trap, a missing text fails. And the client draws
with skwasm on the page's thread (``mobile/web/served.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone
from tests.e2e.world import dispatched_job
from tests.factories import PASSWORD

#: a trap as the page sees one: a WebAssembly ``RuntimeError`` nothing caught
TRAP_JS = "() => { setTimeout(() => { throw new WebAssembly.RuntimeError('null function'); }); }"
#: a page that stopped drawing: the drawn tree taken away
FROZEN_JS = "() => document.querySelector('flt-semantics-host')?.remove()"


def test_a_renderer_trap_reloads_the_page_and_the_app_is_where_it_was(
        api: ApiServer, app_url: str, browser: Any) -> None:
    job = dispatched_job(api, kind="fault_repair", assignee="crew1",
                         description="Flickering lights after the storm")
    phone = Phone(browser, app_url, "harness")
    try:
        phone.open()
        phone.sign_in("crew1", PASSWORD)
        phone.see(job["code"])

        with phone.page.expect_event("load", timeout=10_000):  # the app reloads itself
            phone.page.evaluate(TRAP_JS)
        phone.see(job["code"])  # signed in still, on its jobs
        phone.see("Online")
        assert not phone.page.get_by_role("button", name="Sign in", exact=True).count()
        assert phone.reloads == 0  # the app did, not the test

        # a second trap within the minute: no reload by the app (no reload loop) ...
        phone.page.evaluate("() => { window.__still = true; }")
        phone.page.evaluate(TRAP_JS)
        phone.page.evaluate(FROZEN_JS)
        phone.page.wait_for_timeout(3_000)
        assert phone.page.evaluate("() => window.__still === true")
        # ... so the test's phone reloads it, says so, and the screen is back
        with pytest.warns(UserWarning, match="renderer trapped on harness's page"):
            phone.see(job["code"], timeout=2_000)
        # (the first trap's report may be lost with the page it reloaded: not counted)
        assert phone.reloads == 1 and phone.traps[-1:] == ["null function"]

        # no trap since that reload: a text that is not there fails, with no second reload
        with pytest.raises(AssertionError, match="'No such text' not on the screen"):
            phone.see("No such text", timeout=1_000)
        assert phone.reloads == 1
    finally:
        phone.close()


def test_the_served_client_draws_with_skwasm_on_the_pages_thread(app_url: str,
                                                                  browser: Any) -> None:
    """skwasm's two-thread mode trapped and deadlocked here (mobile/web/served.py): the
    client is served with it on the page's thread (no worker), still isolated."""
    phone = Phone(browser, app_url, "renderer")
    try:
        phone.open()
        assert phone.page.evaluate("() => !!window._flutter_skwasmInstance")  # skwasm
        assert phone.page.evaluate("() => window.crossOriginIsolated")  # headers kept
        assert phone.page.workers == []  # no drawing thread beside the page's
        phone.fill("User name", "crew1")  # and it draws and answers
        assert phone.value("User name") == "crew1"
    finally:
        phone.close()
