"""The installable device app: GridOne's Python running in the browser on Pyodide.

* ``mobile.web.build`` makes the static site (``python -m mobile.web.build``);
* ``mobile.web.entry`` is the module the browser runs (the composition root there);
* ``mobile.web.storage`` keeps the device's data folder in IndexedDB (Emscripten IDBFS);
* ``mobile.web.images`` downscales photos with the browser's own image codecs.

Only ``build`` runs on a server; the others import ``js``/``pyodide`` and run in the
browser's Python worker.
"""
