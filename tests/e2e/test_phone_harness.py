"""The browser tests' phone gets past a trap of Flutter's renderer as a person would, by
reloading the page, and the app is where it was; without a trap, a missing text fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone
from tests.e2e.world import dispatched_job
from tests.factories import PASSWORD

#: what a trapped renderer looks like from the test: the drawn tree stops changing (here it
#: is taken away) and the page reports a WebAssembly trap
TRAP_JS = """() => {
  document.querySelector('flt-semantics-host')?.remove();
  setTimeout(() => { throw new WebAssembly.RuntimeError('null function'); }, 0);
}"""


def test_a_renderer_trap_is_got_past_by_a_reload_that_keeps_the_app_where_it_was(
        api: ApiServer, app_url: str, browser: Any) -> None:
    job = dispatched_job(api, kind="fault_repair", assignee="crew1",
                         description="Flickering lights after the storm")
    phone = Phone(browser, app_url, "harness")
    try:
        phone.open()
        phone.sign_in("crew1", PASSWORD)
        phone.see(job["code"])

        phone.page.evaluate(TRAP_JS)
        with pytest.warns(UserWarning, match="renderer trapped on harness's page"):
            phone.see(job["code"], timeout=2_000)  # not drawn any more: reloaded, then seen
        assert (phone.reloads, phone.traps) == (1, ["null function"])
        phone.see("Online")  # still signed in, on its jobs, no sign-in screen
        assert not phone.page.get_by_role("button", name="Sign in", exact=True).count()

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
