// GridOne's service worker (made by mobile/web/build.py): the whole build, precached under
// a cache named after its version, served cache-first, so the installed app opens with no
// signal. A new build is a new sw.js: it precaches the new files while the old version keeps
// serving, then takes over and deletes the old caches; the page reloads into it
// (boot.js). The device's data lives in IndexedDB, which no version touches.
"use strict";
const VERSION = "__VERSION__";
const PREFIX = "gridone-app-";
const CACHE = PREFIX + VERSION;
const PRECACHE = __PRECACHE__;
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // "reload": never fill the new version from the HTTP cache of the old one
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith(PREFIX) && key !== CACHE) {
        await caches.delete(key);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "version" && event.source) {
    event.source.postMessage({ version: VERSION });
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // the API (and anything outside the app) always goes to the network
  if (request.method !== "GET" || url.origin !== self.location.origin
      || !url.pathname.startsWith(SCOPE) || url.pathname.endsWith("/sw.js")) {
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    let hit = await cache.match(request, { ignoreSearch: true });
    if (!hit && request.mode === "navigate") {
      hit = await cache.match("./");
    }
    // a fallback font Flutter asks for and the build lacks: the stand-in, as the server
    // answers (server/webapp/files.py; a 404 is asked for again at every layout)
    if (!hit && url.pathname.startsWith(SCOPE + "assets/fonts/")) {
      hit = await cache.match("fonts/DejaVuSans.ttf");
    }
    return hit || fetch(request);
  })());
});
