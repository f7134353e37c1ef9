// Moving from search hit to search hit in a document: buttons and the n/p (j/k) keys.
// The server wraps hits in <mark class="hit">; filing HTML carries no classes or data-*
// attributes (the sanitizer drops them), so these selectors only find our own elements.
(function () {
  "use strict";
  var bar = document.querySelector("[data-es-hitbar]");
  var body = document.querySelector("[data-es-document]");
  if (!bar || !body) return;
  var hits = body.querySelectorAll("mark.hit");
  var status = bar.querySelector("[data-es-hit-status]");
  var prev = bar.querySelector("[data-es-hit-prev]");
  var next = bar.querySelector("[data-es-hit-next]");
  var total = hits.length;
  if (!total) return;
  var current = -1;

  // `remember` puts the hit in the address bar (not on the first show: during page load
  // Chrome would then jump to the fragment itself, top-aligned, undoing the centring).
  function show(index, focus, remember) {
    index = (index + total) % total;  // wrap around at either end
    if (current >= 0) hits[current].classList.remove("hit--current");
    current = index;
    var hit = hits[current];
    hit.classList.add("hit--current");
    hit.scrollIntoView({block: "center", behavior: focus ? "smooth" : "auto"});
    status.textContent = "Hit " + (current + 1) + " of " + total;
    bar.setAttribute("data-current", String(current + 1));
    if (remember && window.history && history.replaceState) {
      history.replaceState(null, "", "#es-hit-" + (current + 1));
    }
  }

  function fromHash() {
    var m = /^#es-hit-(\d+)$/.exec(window.location.hash);
    if (m) {
      var n = parseInt(m[1], 10);
      if (n >= 1 && n <= total) return n - 1;
    }
    return 0;
  }

  prev.addEventListener("click", function (event) {
    event.preventDefault();
    show(current - 1, true, true);
  });
  next.addEventListener("click", function (event) {
    event.preventDefault();
    show(current + 1, true, true);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      return;
    }
    if (event.key === "n" || event.key === "j") {
      event.preventDefault();
      show(current + 1, true, true);
    } else if (event.key === "p" || event.key === "k") {
      event.preventDefault();
      show(current - 1, true, true);
    }
  });

  bar.classList.add("hitbar--ready");
  show(fromHash(), false, false);
})();
