// The search filter panel on narrow screens: the Filters button opens it over the results,
// "Show results" (or Escape) closes it. Without this script the button is a link down to
// the panel, which a narrow page shows after the results; wide screens show it beside them.
(function () {
  "use strict";

  var panel = document.querySelector("[data-es-filters]");
  if (!panel) { return; }
  var toggles = Array.prototype.slice.call(document.querySelectorAll("[data-es-filters-toggle]"));
  var closer = panel.querySelector("[data-es-filters-close]");
  var narrow = window.matchMedia("(max-width: 800px)");
  var opener = null;

  document.documentElement.classList.add("es-filters-js");
  panel.setAttribute("tabindex", "-1");

  function setOpen(open, from) {
    panel.classList.toggle("is-open", open);
    document.documentElement.classList.toggle("es-filters-open", open);
    toggles.forEach(function (t) { t.setAttribute("aria-expanded", open ? "true" : "false"); });
    if (open) {
      opener = from || toggles[0];
      panel.focus();
    } else if (opener) {
      opener.focus();
      opener = null;
    }
  }

  toggles.forEach(function (toggle) {
    toggle.setAttribute("role", "button");
    toggle.setAttribute("aria-expanded", "false");
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      setOpen(!panel.classList.contains("is-open"), toggle);
    });
    toggle.addEventListener("keydown", function (event) {
      if (event.key === " ") {  // a link acting as a button answers Space as well as Enter
        event.preventDefault();
        toggle.click();
      }
    });
  });
  if (closer) {
    closer.setAttribute("role", "button");
    closer.addEventListener("click", function (event) {
      event.preventDefault();
      setOpen(false);
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented && panel.classList.contains("is-open")) {
      setOpen(false);
    }
  });
  // Turning a phone or widening a window puts the panel back beside the results.
  narrow.addEventListener("change", function () {
    if (!narrow.matches && panel.classList.contains("is-open")) { setOpen(false); }
  });
})();
