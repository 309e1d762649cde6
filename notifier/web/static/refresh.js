// Keeps a page current while an incident is open: when <body data-refresh="N"> is set,
// fetch the same URL every N seconds and swap in its <main> (no reload, no flicker).
// The page works without this script; it is the only script the console runs.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!seconds) { return; }
  function tick() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok || r.status === 503 ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) { main.replaceWith(document.adoptNode(fresh)); }
        var footer = doc.querySelector("footer");
        var mine = document.querySelector("footer");
        if (footer && mine) { mine.replaceWith(document.adoptNode(footer)); }
        document.body.setAttribute("data-refreshed", String(Date.now()));
        seconds = parseInt(doc.body.getAttribute("data-refresh") || "0", 10);
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { if (seconds) { window.setTimeout(tick, seconds * 1000); } });
  }
  window.setTimeout(tick, seconds * 1000);
}());
