// The search page: Pagefind's own UI over the bundle the build wrote to pagefind/, plus the shards listed in
// pagefind/shards.json, merged into one search. Settings come from data attributes of #search, never from an
// inline script (the site's Content-Security-Policy forbids them). The page's address keeps the query, the
// sort and the ticked filters (?q=x&sort=newest&tag=Reasoning), so a search can be reloaded, shared and
// reached from the search box of every page.
//
// Pagefind's files are loaded from here rather than linked from the HTML: a site built with --no-search then
// has no dangling links (link checkers stay quiet) and the page says that search is not part of the build.
//
// "Export shown results as BibTeX" makes a .bib file of the results on the screen, in their order: each
// paper's entry is the "Cite" block of its page (written by sitegen.build.bibtex, the same text the page shows),
// fetched when the button is pressed, so the index carries nothing more and no extra file is built per paper.
//
// The UI inserts filter values and excerpts as HTML, so it does not get the bundle's pagefind.js but
// escaped/pagefind.js beside it (sitegen/pagefind_escaped.js), which escapes what the UI shows: a tag named
// <img src=x onerror=...> is shown as that text. The UI's checkboxes then carry escaped values; the address
// and everything here hold the values themselves.
(function () {
  "use strict";
  var root = document.getElementById("search");
  if (!root) return;

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var ESCAPED_API = "escaped/"; // sitegen.build.search.ESCAPED_API's folder
  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var UNESCAPES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
  var SORTS = { newest: "desc", oldest: "asc" };
  var bundle = root.getAttribute("data-bundle") || "/pagefind/";
  var baseUrl = root.getAttribute("data-base-url") || "/";
  var filterNames = (root.getAttribute("data-filters") || "").split(/\s+/).filter(Boolean);
  var sortKey = root.getAttribute("data-sort-key") || "date";
  var pageSize = parseInt(root.getAttribute("data-page-size"), 10) || 10;
  var tools = document.querySelector(".search-tools");
  var sortSelect = document.getElementById("search-sort");

  var pageTitle = document.title;
  var state = readAddress();
  var ui = null;
  var shards = []; // the bundles besides the main one, from shards.json
  var preloaded = false; // the index was loaded here (else the UI loads and merges it itself)
  var remaking = Promise.resolve();

  function readAddress() {
    var params = new URLSearchParams(window.location.search);
    var filters = {};
    filterNames.forEach(function (name) {
      var values = params.getAll(name).filter(Boolean);
      if (values.length) filters[name] = values;
    });
    var sort = params.get("sort");
    return { term: (params.get("q") || "").trim(), sort: SORTS[sort] ? sort : "", filters: filters };
  }

  function writeAddress() {
    var params = new URLSearchParams();
    if (state.term) params.set("q", state.term);
    if (state.sort) params.set("sort", state.sort);
    Object.keys(state.filters).forEach(function (name) {
      state.filters[name].forEach(function (value) { params.append(name, value); });
    });
    document.title = (state.term ? state.term + " · " : "") + pageTitle; // names the entry in the history
    var query = params.toString();
    var address = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
    if (address !== window.location.pathname + window.location.search + window.location.hash) {
      window.history.replaceState(window.history.state, "", address);
    }
  }

  // The same two functions as in sitegen/pagefind_escaped.js, whose escaped values the UI works with.
  function escapeText(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }

  function unescapeText(text) {
    return String(text).replace(/&(?:amp|lt|gt|quot|#39);/g, function (e) { return UNESCAPES[e]; });
  }

  // {name: [value, ...]} with every name and value escaped, as the UI's checkboxes carry them.
  function escapeFilters(filters) {
    var escaped = {};
    Object.keys(filters).forEach(function (name) {
      escaped[escapeText(name)] = filters[name].map(escapeText);
    });
    return escaped;
  }

  // What the UI shows now: its search box and its ticked filter boxes (name = filter, value = filter value).
  function readUi() {
    var input = root.querySelector(".pagefind-ui__search-input");
    var filters = {};
    root.querySelectorAll(".pagefind-ui__filter-checkbox:checked").forEach(function (box) {
      var name = unescapeText(box.name);
      (filters[name] = filters[name] || []).push(unescapeText(box.value));
    });
    return { term: input ? input.value.trim() : state.term, sort: state.sort, filters: filters };
  }

  function humanDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return m ? MONTHS[parseInt(m[2], 10) - 1] + " " + parseInt(m[3], 10) + ", " + m[1] : iso;
  }

  // The UI lists every meta field but title, image and url under a result, as "Key: value", in order (as
  // text: the values need no escaping). The curator's marks come first, from the paper's filters.
  function processResult(result) {
    var meta = { title: result.meta.title || result.url };
    var filters = result.filters || {};
    var status = (filters.status || [])[0];
    var rating = parseInt((filters.rating || [])[0], 10);
    if (status) meta.status = status;
    if (rating >= 1 && rating <= 5) meta.rating = rating + " of 5";
    if (result.meta.date) meta.digest = humanDate(result.meta.date);
    var tags = filters.tag || [];
    if (tags.length) meta.tags = tags.join(", ");
    result.meta = meta;
    return result;
  }

  function mount(focus) {
    var options = {
      element: root,
      bundlePath: bundle + ESCAPED_API,
      baseUrl: baseUrl,
      mergeIndex: preloaded ? [] : shards.map(function (path) {
        return { bundlePath: bundle + path, baseUrl: baseUrl };
      }),
      pageSize: pageSize,
      showImages: false,
      showSubResults: false,
      showEmptyFilters: false,
      excerptLength: 36,
      autofocus: focus,
      focusOnSlash: true,
      processResult: processResult,
      translations: { placeholder: "Search titles, abstracts and notes" }
    };
    if (state.sort) {
      options.sort = {};
      options.sort[sortKey] = SORTS[state.sort];
    }
    ui = new window.PagefindUI(options);
    var input = root.querySelector(".pagefind-ui__search-input");
    if (input) {
      input.setAttribute("aria-label", "Search papers"); // Pagefind's box has only a placeholder and title
    }
    if (state.term) ui.triggerSearch(state.term);
    if (Object.keys(state.filters).length) ui.triggerFilters(escapeFilters(state.filters));
  }

  // Pagefind's UI runs its first search without waiting for the filter counts it loads at the same time:
  // when they come late (a slow network, a busy machine, a ?q= search at once) its panel keeps the whole
  // site's counts. So the index, its shards and its filters are loaded first, into the module the UI then
  // uses (one per address), and the UI merges nothing itself.
  function pagefindModule() {
    return import(bundle + "pagefind.js");
  }

  function preload() {
    return pagefindModule().then(function (pagefind) {
      var ready = pagefind.options({ baseUrl: baseUrl });
      shards.forEach(function (path) { // in order: equal scores of a sorted search follow the shards' order
        ready = ready.then(function () { return pagefind.mergeIndex(bundle + path, { baseUrl: baseUrl }); });
      });
      return ready.then(function () { return pagefind.filters(); });
    });
  }

  // A UI that goes takes the loaded index with it (it destroys the module's instance without waiting):
  // destroy that first, load the index again, then make the new UI.
  function remake() {
    var old = ui;
    if (!preloaded) {
      old.destroy();
      mount(false);
      return Promise.resolve();
    }
    return pagefindModule()
      .then(function (pagefind) { return pagefind.destroy(); })
      .then(function () {
        old.destroy();
        return preload();
      })
      .then(null, function () { preloaded = false; })
      .then(function () { mount(false); });
  }

  // --- export of the results shown as BibTeX ---

  var ENTRY_KEY = /^(@[A-Za-z]+\{)([^,\s]+),/;
  var exportButton = document.getElementById("search-export");
  var exportStatus = document.getElementById("search-export-status");
  var exported = null; // the object URL of the last file made (released when the next one is made)

  // 1 -> "b", 25 -> "z", 26 -> "aa": the letters sitegen.build.bibtex.unique_keys gives a repeated key.
  function keyLetters(n) {
    var letters = "";
    for (;;) {
      letters = String.fromCharCode(97 + (n % 26)) + letters;
      n = Math.floor(n / 26);
      if (n === 0) return letters;
      n -= 1;
    }
  }

  // The entries with keys unique within the file, as sitegen.build.bibtex.unique_keys makes them: a key met again
  // gets the first letter that makes a key no other entry has (tools drop an entry whose key repeats).
  function uniqueKeys(entries) {
    var keyOf = function (entry) { var m = ENTRY_KEY.exec(entry); return m ? m[2] : null; };
    var taken = {};
    entries.forEach(function (entry) { var key = keyOf(entry); if (key) taken[key] = true; });
    var seen = {};
    return entries.map(function (entry) {
      var key = keyOf(entry);
      if (key === null) return entry;
      if (seen[key]) {
        var n = 1;
        while (taken[key + keyLetters(n)]) n += 1;
        var renamed = key + keyLetters(n);
        taken[renamed] = true;
        entry = entry.replace(ENTRY_KEY, function (_, head) { return head + renamed + ","; });
        key = renamed;
      }
      seen[key] = true;
      return entry;
    });
  }

  // The BibTeX entry a paper page shows in its #bibtex block.
  function entryOf(href) {
    return window.fetch(href).then(function (response) {
      if (!response.ok) throw new Error(href + ": " + response.status);
      return response.text();
    }).then(function (text) {
      var block = new DOMParser().parseFromString(text, "text/html").getElementById("bibtex");
      if (!block) throw new Error(href + ": no BibTeX on the page");
      return block.textContent.trim();
    });
  }

  function download(text, name) {
    if (exported) URL.revokeObjectURL(exported);
    exported = URL.createObjectURL(new Blob([text], { type: "application/x-bibtex" }));
    var link = document.createElement("a");
    link.href = exported;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function exportShown() {
    var links = root.querySelectorAll(".pagefind-ui__result-link");
    var hrefs = Array.prototype.map.call(links, function (link) { return link.href; });
    if (!hrefs.length) {
      exportStatus.textContent = "No results to export.";
      return;
    }
    exportButton.disabled = true;
    exportStatus.textContent = "Exporting " + hrefs.length + (hrefs.length === 1 ? " entry…" : " entries…");
    Promise.all(hrefs.map(entryOf)).then(function (entries) {
      download(uniqueKeys(entries).join("\n\n") + "\n", "search-results.bib");
      exportStatus.textContent = "Exported " + entries.length + (entries.length === 1 ? " entry." : " entries.");
    }, function (error) {
      exportStatus.textContent = "Export failed: " + error.message;
    }).then(function () { exportButton.disabled = false; });
  }

  function start() {
    mount(!state.term);
    if (exportButton && exportStatus) exportButton.addEventListener("click", exportShown);
    if (state.term) document.title = state.term + " · " + pageTitle;
    if (tools && sortSelect) {
      sortSelect.value = state.sort;
      tools.hidden = false;
      // Pagefind's UI takes its sort when it is made: make it again, with the same query and filters.
      sortSelect.addEventListener("change", function () {
        remaking = remaking.then(function () {
          state = readUi();
          state.sort = SORTS[sortSelect.value] ? sortSelect.value : "";
          writeAddress();
          return remake();
        });
      });
    }
    var pending = 0;
    function remember() {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        state = readUi();
        writeAddress();
      }, 250);
    }
    root.addEventListener("input", remember);
    root.addEventListener("change", remember);
    // The UI's "Clear" button and its Escape key empty the box without an input event.
    root.addEventListener("click", remember);
    root.addEventListener("keyup", remember);
  }

  function load(tag, attributes) {
    return new Promise(function (resolve, reject) {
      var element = document.createElement(tag);
      Object.keys(attributes).forEach(function (name) { element.setAttribute(name, attributes[name]); });
      element.addEventListener("load", resolve);
      element.addEventListener("error", reject);
      document.head.appendChild(element);
    });
  }

  function unavailable() {
    // No pagefind-ui.js: a build made with --no-search, or a copy of the site without pagefind/.
    root.hidden = true;
    var notice = document.querySelector(".search-unavailable");
    if (notice) notice.hidden = false;
  }

  // shards.json lists the bundles besides the main one (none below the shard size). A missing or unreadable
  // file means one bundle: search that rather than nothing.
  var listed = window.fetch(bundle + "shards.json")
    .then(function (response) { return response.ok ? response.json() : {}; })
    .then(function (manifest) { return Array.isArray(manifest.bundles) ? manifest.bundles : []; })
    .catch(function () { return []; });
  // The stylesheet first, so the UI never shows unstyled; a stylesheet that fails still leaves a usable UI.
  var style = load("link", { rel: "stylesheet", href: bundle + "pagefind-ui.css" }).catch(function () {});
  var script = load("script", { src: bundle + "pagefind-ui.js" });
  // Loaded alongside the UI's files. If it fails, the UI loads (and merges) the index itself, and reports
  // what went wrong.
  var index = listed.then(function (bundles) {
    shards = bundles;
    return preload().then(function () { preloaded = true; }, function () {});
  });
  Promise.all([script, style, index]).then(function () {
    if (typeof window.PagefindUI !== "function") unavailable();
    else start();
  }, unavailable);
})();
