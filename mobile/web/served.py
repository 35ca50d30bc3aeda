"""The web root the web-mode app (``python -m mobile``: the phones in a browser, the office
desk) is served from: Flet's own web client, with Flutter's skwasm renderer kept on the
page's thread.

Flet serves its client with COOP/COEP headers, so the page is cross-origin isolated, and
Flutter's loader then runs skwasm on two threads: the page's and a dedicated worker
drawing in memory the two share. Here that mode failed the browser tests now and then, in
two ways, both inside skwasm (open Flutter issues flutter/flutter#184858, #182367):

* a trap (``RuntimeError: memory access out of bounds`` / ``null function``), after which
  the page draws nothing more while the app goes on;
* a deadlock: the page's thread and the worker each at 100 % CPU for good, the page
  answering nothing (a desk's tab frozen; a test held until its 10-minute timeout).

Flutter's loader takes ``forceSingleThreadedSkwasm`` in its configuration (the mode it
uses on its own where a page is not isolated): skwasm then draws on the page's thread,
with no worker and no lock to share. This module makes a copy of Flet's web root (hard
links: nothing is copied where the file system allows) whose ``flutter_bootstrap.js`` sets
it, and points Flet at it (``FLET_WEB_PATH``, Flet's own setting); the headers stay.

The same bootstrap reloads a page whose renderer trapped all the same (``RECOVER``): the
Flet session lives in the app's process and survives the reload, so the screen comes back
as it was, as Flet's own page already does for WebKit's frozen back/forward restores. At
most once a minute a tab, so a page that traps as it starts is not reloaded for ever.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

#: where Flet's bootstrap builds the configuration it hands Flutter's loader and engine
ANCHOR = "var flutterConfig = {"
#: set right after that object is built (before ``_flutter.loader.load`` reads it)
SETTING = "flutterConfig.forceSingleThreadedSkwasm = true;"
BOOTSTRAP = "flutter_bootstrap.js"
#: first in the bootstrap: a WebAssembly trap that reaches the page reloads it (once a
#: minute at most; ``sessionStorage``: this tab's)
RECOVER = """// GridOne (mobile/web/served.py): a renderer that trapped draws nothing more; reload.
(() => {
  const KEY = "gridone.rendererReloadAt";
  const recover = (error) => {
    if (!(error instanceof WebAssembly.RuntimeError)) return;
    const last = Number(sessionStorage.getItem(KEY) || 0);
    if (Date.now() - last < 60000) return;
    sessionStorage.setItem(KEY, String(Date.now()));
    console.warn(`GridOne: the renderer trapped (${error.message}); reloading the page`);
    location.reload();
  };
  window.addEventListener("error", (event) => recover(event.error));
  window.addEventListener("unhandledrejection", (event) => recover(event.reason));
})();
"""


def flet_web_dir() -> Path:
    """Flet's packaged web client (not ``FLET_WEB_PATH``: that may be ours already)."""
    import flet_web

    return Path(flet_web.__file__).parent / "web"


def patched_bootstrap(text: str) -> str:
    """Flet's ``flutter_bootstrap.js`` with skwasm on one thread, after ``RECOVER``. A
    bootstrap without the anchor (a Flet whose client changed) is refused: the app must
    not start on a client this was not checked against."""
    start = text.find(ANCHOR)
    end = text.find("};", start)
    if start < 0 or end < 0 or text.count(ANCHOR) != 1:
        raise RuntimeError(f"{BOOTSTRAP} changed: {ANCHOR!r} not found once; "
                           "mobile/web/served.py must be checked against this Flet")
    end += len("};")
    return f"{RECOVER}{text[:end]}\n{SETTING}\n{text[end:]}"


def make_web_root(parent: Path | None = None) -> Path:
    """A new web root (in ``parent``, else a temporary folder): Flet's files linked, its
    bootstrap patched. The caller removes it (``shutil.rmtree``) when it stops serving."""
    source = flet_web_dir()
    root = Path(tempfile.mkdtemp(prefix="gridone-web-", dir=parent))
    for path in source.rglob("*"):
        target = root / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.name != BOOTSTRAP or path.parent != source:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # another file system, or links not allowed: a copy
                shutil.copy2(path, target)
    text = (source / BOOTSTRAP).read_text(encoding="utf-8")
    (root / BOOTSTRAP).write_text(patched_bootstrap(text), encoding="utf-8")
    return root
