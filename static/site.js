// Small behaviours every page shares (static/README.md): the staff menu on phones, and
// the warning before leaving a form with unsaved edits. Pages work without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    if (!toggle) { return; }
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    });
  }

  // A form marked data-guard warns before the page is left with edits not yet saved;
  // submitting that form (any of its buttons) is not leaving it.
  function setUpGuards() {
    var dirty = [];
    document.querySelectorAll("form[data-guard]").forEach(function (form) {
      var note = form.querySelector(".dirty-note");
      function mark() {
        if (dirty.indexOf(form) === -1) { dirty.push(form); }
        if (note) { note.hidden = false; }
      }
      form.addEventListener("input", mark);
      form.addEventListener("change", mark);
      form.addEventListener("submit", function () {
        dirty = dirty.filter(function (other) { return other !== form; });
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty.length) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  function ready() {
    setUpMenu();
    setUpGuards();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
