// Live progress of a subscriber import: polls the JSON figures, moves the bar, and
// shows the report (a reload) once the import has ended.
(function () {
  "use strict";
  var panel = document.getElementById("import-progress");
  if (!panel) { return; }
  function field(name) { return panel.querySelector('[data-field="' + name + '"]'); }
  function show(data) {
    field("done").textContent = String(data.done);
    field("total").textContent = String(data.total);
    var bar = field("bar");
    bar.max = data.total || 1;
    bar.value = data.done;
    var status = field("status");
    status.textContent = data.status.charAt(0).toUpperCase() + data.status.slice(1);
    status.className = "tag status-" + data.status;
  }
  function poll() {
    fetch(panel.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) { show(data); }
        if (data && (data.status === "done" || data.status === "failed")) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
})();
