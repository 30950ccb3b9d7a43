// accord web: reload a reading page when something new arrived through the relay.
// The pages work without it; it only polls this app's own /api/head (same origin).
(function () {
  "use strict";
  var body = document.body;
  var drawn = body.getAttribute("data-heads");
  if (!drawn) { return; }
  var project = body.getAttribute("data-project");
  var canReload = body.getAttribute("data-refresh") === "1";
  var url = "/api/head" + (project ? "?project=" + encodeURIComponent(project) : "");
  var busy = false;

  function typing() {
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return true; }
    var fields = document.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) { return true; }
    }
    return false;
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.heads && data.heads !== drawn) {
          if (canReload && !typing()) { window.location.reload(); return; }
          document.getElementById("fresh").hidden = false;
        }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  window.setInterval(poll, Number(body.getAttribute("data-poll") || 5000));
})();
