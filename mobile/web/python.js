// GridOne's page side of Python in the browser (mobile/web/build.py puts it in place of
// flet-web's python.js; same functions for the Flutter client: jsConnect, jsSend,
// jsDisconnect). The difference: flet-web starts the Python worker when Flutter asks for
// it, once the Flutter engine is up (~2-3 s into a start); this starts it as the page
// loads, so Pyodide's start, the packages and the app's imports run beside Flutter's own
// start, on the other core. Flutter's jsConnect then takes the worker already running.
// The worker posts nothing but its "initialized" (or an error) before Flutter's first
// message, so there is nothing to hold for a late Flutter.
"use strict";
let _apps = {};
let _documentUrl = document.URL;
let _early = null;

function _startWorker() {
  const base = flet.entrypointBaseUrl.endsWith("/") ?
    flet.entrypointBaseUrl.slice(0, -1) : flet.entrypointBaseUrl;
  const worker = new Worker(base + "/python-worker.js", { type: "module" });
  const started = { worker: worker, error: undefined, onMessage: null };
  started.initialized = new Promise((resolve) => {
    worker.onmessage = (event) => {
      if (typeof event.data === "string") {
        if (event.data != "initialized") {
          started.error = event.data;
        }
        resolve();
      } else if (started.onMessage) {
        started.onMessage(event.data);
      }
    };
  });
  worker.postMessage({
    pyodideUrl: flet.pyodideUrl || "pyodide/pyodide.mjs",
    args: {},
    documentUrl: _documentUrl,
    appPackageUrl: flet.appPackageUrl,
    micropipIncludePre: flet.micropipIncludePre,
    pythonModuleName: flet.pythonModuleName
  });
  return started;
}

if (flet.pyodide) {
  _early = _startWorker();
}

// Called from Dart on backend.connect(); dartOnMessage takes each message (a Uint8Array)
globalThis.jsConnect = async function (appId, args, dartOnMessage) {
  console.log(`Connecting to the Python worker: ${appId}`);
  // the worker started with the page, unless an earlier connection used it up
  const started = _early || _startWorker();
  _early = null;
  started.onMessage = dartOnMessage;
  _apps[appId] = started;
  await started.initialized;
  if (started.error) {
    console.error("Python worker init error:", started.error);
    await jsDisconnect(appId);
    throw started.error;
  }
  console.log(`Python worker initialized: ${appId}`);
};

// Called from Dart on backend.send: data is a serialized message (Uint8Array), handed over
globalThis.jsSend = async function (appId, data) {
  if (appId in _apps) {
    _apps[appId].worker.postMessage(data, [data.buffer]);
  }
};

// Called from Dart on channel.disconnect
globalThis.jsDisconnect = async function (appId) {
  if (appId in _apps) {
    console.log(`Terminating Python worker: ${appId}`);
    const app = _apps[appId];
    delete _apps[appId];
    app.worker.terminate();
    app.worker.onmessage = null;
    app.worker.onerror = null;
  }
};
