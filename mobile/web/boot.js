// Installed by mobile/web/build.py into index.html: register GridOne's service worker, ask
// for storage the browser will not evict, and reload once when a new version takes over.
(function () {
  if (!("serviceWorker" in navigator)) {
    return;
  }
  var updating = !!navigator.serviceWorker.controller;
  var reloaded = false;
  navigator.serviceWorker.addEventListener("controllerchange", function () {
    // the first install takes control silently; a new version reloads the page into it
    if (updating && !reloaded) {
      reloaded = true;
      window.location.reload();
    }
  });
  navigator.serviceWorker.register("sw.js", { scope: "./" }).then(function (reg) {
    // Look for a new version again when the signal comes back, a little after start (the
    // check made at start fails when the page opened a moment before the link was up) and
    // every 15 minutes while the app stays open.
    var check = function () {
      if (navigator.onLine) {
        reg.update().catch(function () {});
      }
    };
    window.addEventListener("online", check);
    setTimeout(check, 5000);
    setInterval(check, 15 * 60 * 1000);
  }).catch(function (err) {
    console.warn("GridOne: service worker not registered:", err);
  });
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persist().catch(function () {});
  }
})();
