// Moving from search hit to search hit in a document: buttons and the n/p (j/k) keys.
// The server wraps hits in <mark class="hit" id="es-hit-N">, numbered through the whole
// document; a long document is shown a page at a time, so past this page's first or last
// hit the bar goes to the page holding the previous or next one (data-prev-url and
// data-next-url, empty when every hit is on this page). Filing HTML carries no classes or
// data-* attributes (the sanitizer drops them), so these selectors only find our elements.
(function () {
  "use strict";
  var bar = document.querySelector("[data-es-hitbar]");
  var body = document.querySelector("[data-es-document]");
  if (!bar || !body) return;
  var hits = body.querySelectorAll("mark.hit");
  var status = bar.querySelector("[data-es-hit-status]");
  var prev = bar.querySelector("[data-es-hit-prev]");
  var next = bar.querySelector("[data-es-hit-next]");
  // "2000+" when a page held more hits than are marked.
  var total = bar.getAttribute("data-total") || String(hits.length);
  var before = parseInt(bar.getAttribute("data-before"), 10) || 0;  // hits on earlier pages
  var nextUrl = bar.getAttribute("data-next-url") || "";
  var prevUrl = bar.getAttribute("data-prev-url") || "";
  var local = hits.length;
  if (!status || !prev || !next || (!local && !nextUrl && !prevUrl)) return;
  var current = -1;

  // `remember` puts the hit in the address bar (not on the first show: during page load
  // Chrome would then jump to the fragment itself, top-aligned, undoing the centring).
  function show(index, focus, remember) {
    if (index >= local && nextUrl) {
      window.location.assign(nextUrl);
      return;
    }
    if (index < 0 && prevUrl) {
      window.location.assign(prevUrl);
      return;
    }
    index = (index + local) % local;  // every hit is on this page: wrap around
    if (current >= 0) hits[current].classList.remove("hit--current");
    current = index;
    var hit = hits[current];
    hit.classList.add("hit--current");
    hit.scrollIntoView({block: "center", behavior: focus ? "smooth" : "auto"});
    status.textContent = "Hit " + (before + current + 1) + " of " + total;
    bar.setAttribute("data-current", String(before + current + 1));
    if (remember && window.history && history.replaceState) {
      history.replaceState(null, "", "#es-hit-" + (before + current + 1));
    }
  }

  // Where the page opens. "#es-hit-N" shows that hit. Any other fragment that names an
  // element of the document (a section's heading, "#item-7a", from a section search) is
  // left to the browser: no hit is shown or scrolled to, and the first move goes to the
  // nearest hit after it (or before it). With no fragment, the page shows its first hit.
  var anchorNext = -1;  // with no current hit: the index of the first hit after the anchor

  function anchorTarget() {
    var id = window.location.hash.slice(1);
    if (!id) return null;
    try {
      id = decodeURIComponent(id);
    } catch (e) {
      return null;
    }
    var target = document.getElementById(id);
    return target && body.contains(target) ? target : null;
  }

  function fromHash() {
    var m = /^#es-hit-(\d+)$/.exec(window.location.hash);
    if (m) {
      var n = parseInt(m[1], 10) - before;
      if (n >= 1 && n <= local) return n - 1;
    }
    var target = anchorTarget();
    if (target && !m) {
      anchorNext = local;
      for (var i = 0; i < local; i++) {
        if (target.compareDocumentPosition(hits[i]) & Node.DOCUMENT_POSITION_FOLLOWING) {
          anchorNext = i;
          break;
        }
      }
      return -1;
    }
    return 0;
  }

  function step(delta) {
    if (current < 0 && anchorNext >= 0) {
      // From the anchor: next is the first hit after it, previous the last one before it
      // (past this page's ends, the neighbouring page, as for any other move).
      show(delta > 0 ? anchorNext : anchorNext - 1, true, true);
      return;
    }
    // With no hit on this page, the first move leaves it: next goes to the following
    // page's first hit, previous to the preceding page's last.
    show(current < 0 ? (delta > 0 ? local : -1) : current + delta, true, true);
  }

  prev.addEventListener("click", function (event) {
    event.preventDefault();
    step(-1);
  });
  next.addEventListener("click", function (event) {
    event.preventDefault();
    step(1);
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
      step(1);
    } else if (event.key === "p" || event.key === "k") {
      event.preventDefault();
      step(-1);
    }
  });

  bar.classList.add("hitbar--ready");
  if (local) {
    var start = fromHash();
    if (start >= 0) show(start, false, false);
  }
})();
