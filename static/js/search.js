// Company suggestions as you type (GET /api/companies?q=), for every [data-es-company] box.
// Arrow keys move through the list, Enter opens the chosen company, Enter without a
// choice submits the form (the company results page). In the results page's filter panel
// (data-es-suggest-mode="filter") choosing a company filters by its CIK instead. No inline
// script: CSP allows only our static files.
(function () {
  "use strict";

  function setup(box) {
    if (box.hasAttribute("data-es-ready")) { return; }  // the script may be included twice
    box.setAttribute("data-es-ready", "");
    var input = box.querySelector("input");
    var list = box.querySelector("[role=listbox]");
    var url = input.getAttribute("data-es-suggest-url");
    var filterMode = box.getAttribute("data-es-suggest-mode") === "filter";
    var active = -1;
    var timer = null;
    var lastQuery = "";
    var controller = null;

    function options() {
      return Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var opts = options();
      opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && opts[index]) {
        input.setAttribute("aria-activedescendant", opts[index].id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(results) {
      list.textContent = "";
      results.forEach(function (c, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = list.id + "-" + i;
        var a = document.createElement("a");
        a.href = filterMode ? c.search_url : c.url;
        a.setAttribute("data-cik", c.cik);
        a.textContent = c.name;
        if (c.tickers && c.tickers.length) {
          var ticker = document.createElement("span");
          ticker.className = "company-suggestions__ticker";
          ticker.textContent = " " + c.tickers.join(", ");
          a.appendChild(ticker);
        }
        var cik = document.createElement("span");
        cik.className = "company-suggestions__cik";
        cik.textContent = " CIK " + c.cik;
        a.appendChild(cik);
        if (c.former_names.length) {
          var former = document.createElement("span");
          former.className = "company-suggestions__former";
          former.textContent = " formerly " + c.former_names.join("; ");
          a.appendChild(former);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
      active = -1;
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      if (q === lastQuery) { return; }
      lastQuery = q;
      if (q.length < 2) { render([]); return; }
      if (controller) { controller.abort(); }
      controller = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(q), { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === q) { render(data.results || []); } })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 150);
    });
    input.addEventListener("keydown", function (event) {
      var opts = options();
      if (event.key === "ArrowDown" && opts.length) {
        event.preventDefault();
        list.hidden = false;
        highlight((active + 1) % opts.length);
      } else if (event.key === "ArrowUp" && opts.length) {
        event.preventDefault();
        highlight(active <= 0 ? opts.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0 && opts[active] && !list.hidden) {
        event.preventDefault();
        choose(opts[active].querySelector("a"));
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();  // closes the list, not the filter panel around it
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
    list.addEventListener("click", function (event) {
      var link = event.target.closest("a");
      if (link && filterMode) {
        event.preventDefault();
        choose(link);
      }
    });

    // A filter box takes the company's CIK and applies the filters with the rest of the
    // form; elsewhere the company's page opens.
    function choose(link) {
      if (filterMode && input.form) {
        input.value = link.getAttribute("data-cik");
        lastQuery = input.value;
        close();
        input.form.submit();
      } else {
        window.location.href = link.href;
      }
    }
  }

  document.querySelectorAll("[data-es-company]").forEach(setup);
})();
