// Makes the memory snapshot Python's worker restores Pyodide from (mobile/web/python-worker.js):
// a Pyodide started for nothing else (loadPyodide's _makeSnapshot), saved as it stands into
// Cache Storage, the standard library the app uses already imported. Answers {bytes} or
// {error}.
"use strict";
import { makeSnapshotBytes } from "./snapshot.js";

self.onmessage = async (event) => {
  const { pyodideUrl, cacheName, key } = event.data;
  try {
    const { loadPyodide } = await import(pyodideUrl);
    const snapshot = await makeSnapshotBytes(loadPyodide);
    const cache = await caches.open(cacheName);
    await cache.put(key, new Response(snapshot, {
      headers: { "content-type": "application/octet-stream" },
    }));
    self.postMessage({ bytes: snapshot.length });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
