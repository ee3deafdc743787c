// Live progress of a send: polls the JSON figures and updates the page in place.
(function () {
  "use strict";
  var panel = document.getElementById("progress");
  if (!panel) { return; }
  var finished = ["sent", "cancelled", "draft"];
  function field(name) { return panel.querySelector('[data-field="' + name + '"]'); }
  function show(data) {
    ["sent", "failed", "retrying", "left", "skipped", "rate"].forEach(function (name) {
      var node = field(name);
      if (node) { node.textContent = String(data[name]); }
    });
    var eta = field("eta");
    if (eta) { eta.textContent = data.seconds_left === null ? "–" : Math.round(data.seconds_left) + " s"; }
    var bar = field("bar");
    if (bar) { bar.max = data.total || 1; bar.value = data.total - data.left; }
    var status = field("status");
    if (status) { status.textContent = data.status; status.className = "tag status-" + data.status; }
    var reason = field("pause_reason");
    if (reason) { reason.textContent = data.pause_reason || ""; }
    panel.querySelectorAll("form[data-shown-in]").forEach(function (form) {
      form.hidden = form.dataset.shownIn.split(" ").indexOf(data.status) === -1;
    });
    panel.dataset.status = data.status;
  }
  function poll() {
    fetch(panel.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) { show(data); }
        if (!data || finished.indexOf(panel.dataset.status) === -1) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
