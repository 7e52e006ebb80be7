// Opt-in (site.yaml: quick_exit: {key: true}). The "Exit this page" link works
// without this script; with it, pressing Escape three times also leaves, and
// leaving replaces this page in the browser's history, so Back does not return.
(function () {
  "use strict";
  var link = document.querySelector("a.quick-exit");
  if (!link) {
    return;
  }
  var presses = [];
  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    window.location.replace(link.href);
  }
  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) {
      leave();
    }
  });
})();
