// Python's start from a memory snapshot (imported by python-worker.js; tests/e2e/pwa import it
// in a page too). Pyodide restored from a snapshot of its started interpreter skips its own
// start (runtime init, the stdlib's imports): 2.4-3.4 s of a 6.5 s warm start here, against
// ~0.4 s to read and restore 31 MB. The snapshot is made by snapshot-worker.js in a worker of
// its own, a few seconds after a start that had none: Pyodide can only snapshot an
// interpreter started for that (its jsglobals proxy breaks the app's use of the browser's
// objects, e.g. `from js import location`).
"use strict";

// The standard library the app imports beyond what Pyodide's own start does, imported before
// the snapshot is taken: a restored start finds them in sys.modules (their import is part of
// the app's start, ~10 % of it). Only the standard library: it is the same in every build of
// this Pyodide, while the app's own code and its packages change with each update (and
// pydantic-core's native library could not be restored). A name missing from a later
// Pyodide is skipped.
export const PRELOAD = [
  "ast", "base64", "bisect", "calendar", "concurrent.futures", "contextvars", "copy", "csv",
  "dataclasses", "datetime", "decimal", "dis", "email.header", "email.message",
  "email.parser", "email.utils", "enum", "fractions", "hashlib", "hmac",
  "importlib.metadata", "importlib.resources", "importlib.util", "inspect", "ipaddress",
  "json", "locale", "logging", "numbers", "pathlib", "platform", "queue", "secrets",
  "shutil", "sqlite3", "string", "tempfile", "textwrap", "threading", "tokenize",
  "traceback", "typing", "urllib.parse", "uuid", "zipfile", "zoneinfo",
];

// FNV-1a of a string, as 8 hex digits.
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

// One snapshot per app address, outside the versioned app caches: it holds only Pyodide's
// interpreter and the stdlib of PRELOAD (none of GridOne's code), so an app update keeps it;
// one made with another PRELOAD has another key (a device's old one is then not used but
// dropped, and a new one made); one of another Pyodide build is refused by loadPyodide
// itself (its build id), then dropped and made anew.
export const SNAPSHOT_CACHE = "gridone-pyodide-snapshot";
export const SNAPSHOT_KEY = new URL(
  `pyodide/memory.snapshot?preload=${fnv1a(PRELOAD.join(","))}`, import.meta.url).href;

// Python that imports PRELOAD, skipping what this Pyodide lacks.
export function preloadCode(names = PRELOAD) {
  return `def _preload(names):
    import importlib
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
_preload(${JSON.stringify(names)})
del _preload`;
}

export async function readSnapshot() {
  if (!self.caches) {
    return null; // not a secure context: no Cache Storage (and no installed app)
  }
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    for (const old of await cache.keys()) { // made with another PRELOAD: of no use now
      if (old.url !== SNAPSHOT_KEY) {
        await cache.delete(old);
      }
    }
    const hit = await cache.match(SNAPSHOT_KEY);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
  } catch (error) {
    console.warn(`GridOne: the memory snapshot could not be read: ${error}`);
    return null;
  }
}

export async function forgetSnapshot() {
  try {
    await (await caches.open(SNAPSHOT_CACHE)).delete(SNAPSHOT_KEY);
  } catch (error) {
    console.warn(`GridOne: the memory snapshot could not be removed: ${error}`);
  }
}

// [pyodide, restored]: from the snapshot when there is one that works, else afresh. The
// snapshot's buffer is detached once used (handed over, not kept).
export async function startPyodide(loadPyodide, snapshot, options) {
  if (snapshot) {
    try {
      const pyodide = await loadPyodide({ ...options, _loadSnapshot: snapshot });
      const bytes = snapshot.length;
      // copied into Python's memory by now, but Pyodide keeps its options (API.config) for
      // the worker's life: the 31 MB is let go by detaching its buffer
      structuredClone(snapshot.buffer, { transfer: [snapshot.buffer] });
      // every start from one snapshot would otherwise draw the same "random" numbers
      pyodide.runPython("import sys\nif 'random' in sys.modules: sys.modules['random'].seed()");
      console.info(`GridOne: Python restored from its memory snapshot (${bytes} bytes)`);
      return [pyodide, true];
    } catch (error) {
      console.warn(`GridOne: the memory snapshot could not be used (${error}); Python starts afresh`);
      await forgetSnapshot();
    }
  }
  return [await loadPyodide(options), false];
}

// A snapshot as snapshot-worker.js makes it: a Pyodide started for that, PRELOAD imported.
export async function makeSnapshotBytes(loadPyodide) {
  const pyodide = await loadPyodide({ _makeSnapshot: true });
  pyodide.runPython(preloadCode());
  return pyodide.makeMemorySnapshot();
}

// Made in a worker of its own; a failure costs nothing but the next start's restore.
export function makeSnapshot(pyodideUrl) {
  const maker = new Worker(new URL("snapshot-worker.js", import.meta.url), { type: "module" });
  maker.onmessage = (event) => {
    if (event.data.error) {
      console.warn(`GridOne: no memory snapshot made: ${event.data.error}`);
    } else {
      console.info(`GridOne: memory snapshot made (${event.data.bytes} bytes)`);
    }
    maker.terminate();
  };
  maker.onerror = (event) => {
    console.warn(`GridOne: no memory snapshot made: ${event.message}`);
    maker.terminate();
  };
  maker.postMessage({ pyodideUrl, cacheName: SNAPSHOT_CACHE, key: SNAPSHOT_KEY });
}
