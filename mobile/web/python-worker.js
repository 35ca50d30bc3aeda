// GridOne's Python worker (mobile/web/build.py puts it in place of flet-web's
// python-worker.js, filling in the package names). The same bridge to the Flutter client
// (the flet_js module, start_connection, the output pane), a faster start:
// * the app archive and the packages' zip are fetched at once, while Pyodide starts;
// * the pure-Python packages are not installed: their zip (compiled bytecode inside) goes
//   on sys.path as it is and Python reads a module from it when it is first imported;
//   only the two packages with native code are unpacked, by Pyodide's loadPackage;
// * no micropip (importing it and resolving the requirements took ~1/8 of a start);
// * Pyodide is restored from the device's memory snapshot of a started interpreter, not
//   started afresh, when there is one (snapshot.js); a start without one has it made.
// Each step is logged as "gridone-start <step> <epoch ms>" (bench/pwa_bench.py reads them).
"use strict";
import { makeSnapshot, readSnapshot, startPyodide } from "./snapshot.js";

const PACKAGES_ZIP = __PACKAGES_ZIP__;
const NATIVE = __NATIVE__;
const PACKAGES_PATH = "/lib/gridone/" + PACKAGES_ZIP;
const SNAPSHOT_DELAY_MS = 4000; // after the app is up: the first screen is not slowed

self.flet_js = {}; // the module Python's flet imports as flet_js
let userAppRunning = false;

function mark(step) {
  console.debug(`gridone-start ${step} ${performance.timeOrigin + performance.now()}`);
}
mark("worker");

// Until the app runs, Python's output is start-up diagnostics: the developer console.
// Then it goes to the page's Console pane through flet's bridge.
flet_js.userAppStarting = function () {
  userAppRunning = true;
};
function sendPythonOutput(text, isStderr) {
  if (!userAppRunning || !flet_js.send_python_output) {
    (isStderr ? console.error : console.log)(text);
    return;
  }
  // Pyodide calls the output hooks without the GIL: back into Python on a microtask
  queueMicrotask(() => flet_js.send_python_output(text, isStderr));
}

// A first start online downloads ~20 MB over whatever link the phone has: a dropped
// connection or a busy server (5xx) is tried again (3 tries, 1 s then 3 s apart) before
// the start is given up with the address and the reason.
async function download(url) {
  let reason = "";
  for (const pause of [0, 1000, 3000]) {
    if (pause) {
      await new Promise((done) => setTimeout(done, pause));
    }
    try {
      const response = await fetch(url);
      if (response.ok) {
        return new Uint8Array(await response.arrayBuffer());
      }
      reason = `HTTP ${response.status}`;
      if (response.status < 500) {
        break;
      }
    } catch (error) {
      reason = error.toString();
    }
  }
  throw new Error(`Failed to download ${url}: ${reason}`);
}

// loadPackage reports a package it could not load without failing: a failed load is tried
// again, 1 s then 3 s apart (a package that did load is not fetched again); after the third
// try the start fails here, with loadPackage's words, rather than later as a missing
// module. Without the browser's integrity check against the lock file's sha256 (the wheels
// come from this origin, precached with the rest of the build; a broken one still fails:
// it is a zip with checksums): two first starts in CI failed every try with "Failed to
// fetch" while the plain downloads beside them worked, and that check is what differed.
async function loadNative(pyodide) {
  let errors = [];
  for (const pause of [0, 1000, 3000]) {
    if (pause) {
      await new Promise((done) => setTimeout(done, pause));
    }
    errors = [];
    await pyodide.loadPackage(NATIVE, {
      messageCallback: () => {},
      errorCallback: (text) => errors.push(text),
      checkIntegrity: false,
    });
    if (!errors.length) {
      return;
    }
    console.warn(`GridOne: loading ${NATIVE.join(", ")} failed, trying again: ${errors.join("; ")}`);
  }
  throw new Error(`Could not load ${NATIVE.join(", ")}: ${errors.join("; ")}`);
}

function receiveCallback(message) {
  // a Python bytes proxy: a fresh Uint8Array whose buffer is handed over, not copied
  const bytes = message.toJs();
  self.postMessage(bytes, [bytes.buffer]);
}
flet_js.receive_callback = receiveCallback;

async function start(config) {
  const here = self.location.href;
  const files = Promise.all([download(new URL(config.appPackageUrl, here)),
                             download(new URL(PACKAGES_ZIP, here))]);
  files.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  const snapshot = readSnapshot();
  const { loadPyodide } = await import(config.pyodideUrl);
  const [pyodide, restored] = await startPyodide(loadPyodide, await snapshot, {
    stdout: (text) => sendPythonOutput(text, false),
    stderr: (text) => sendPythonOutput(text, true),
  });
  mark(restored ? "restored" : "pyodide");
  const native = loadNative(pyodide);
  native.catch(() => {}); // awaited below
  const [app, packages] = await files;
  pyodide.unpackArchive(app, "gztar"); // into the working directory, on sys.path
  pyodide.FS.mkdirTree("/lib/gridone");
  pyodide.FS.writeFile(PACKAGES_PATH, packages);
  await native;
  mark("packages");
  self.pyodide = pyodide;
  pyodide.registerJsModule("flet_js", flet_js);
  flet_js.args = config.args;
  flet_js.documentUrl = config.documentUrl;
  pyodide.globals.set("packages_path", PACKAGES_PATH);
  pyodide.globals.set("python_module_name", config.pythonModuleName || "main");
  await pyodide.runPythonAsync(`
import runpy, sys
sys.path.append(packages_path)

import flet_js
import msgpack

def _send_python_output(text, is_stderr):
    # framed as PyodideConnection.send_message frames: type byte 0 (a Flet protocol
    # message), then msgpack of [action, body]
    flet_js.receive_callback(bytes([0]) + msgpack.packb(
        [7, {"text": text, "is_stderr": bool(is_stderr)}]))

flet_js.send_python_output = _send_python_output
flet_js.userAppStarting()
try:
    runpy.run_module(python_module_name, run_name="__main__")
except SystemExit as _exit:
    if _exit.code not in (None, 0):
        raise
`);
  mark("app");
  if (typeof flet_js.start_connection !== "function") {
    self.postMessage("__flet_no_ui__:Script finished without starting a Flet UI.");
    return;
  }
  await flet_js.start_connection(receiveCallback);
  self.postMessage("initialized");
  if (!restored && self.caches && typeof Worker !== "undefined") {
    setTimeout(makeSnapshot, SNAPSHOT_DELAY_MS, config.pyodideUrl);
  }
}

let started = false;
self.onmessage = async (event) => {
  if (!started) {
    started = true;
    try {
      await start(event.data);
    } catch (error) {
      self.postMessage(error.toString());
    }
  } else if (typeof flet_js.send === "function") {
    flet_js.send(event.data);
  } else {
    console.error("GridOne: dropped a message for a Python app that never started.");
  }
};
