// Progressive enhancement only: every page works without this file.
//
// Loaded in <head> without `defer`, so that the list view a reader chose is set on <html> before the first
// paint (a list drawn compact, then full, would jump); the rest waits for the document.
(function () {
  "use strict";
  var VIEW_KEY = "sitegen.listView"; // "compact" (the default) or "full"
  var root = document.documentElement;

  function storedView() {
    try {
      return window.localStorage.getItem(VIEW_KEY) === "full" ? "full" : "compact";
    } catch (error) { // storage refused (a privacy setting): the default view, every time
      return "compact";
    }
  }

  function setView(view, remember) {
    if (view === "full") root.setAttribute("data-view", "full");
    else root.removeAttribute("data-view");
    document.querySelectorAll(".view-toggle button[data-view]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-view") === view));
    });
    if (remember) {
      try {
        window.localStorage.setItem(VIEW_KEY, view);
      } catch (error) { /* kept for this page only */ }
    }
  }

  setView(storedView(), false);

  // Compact or full lists: one choice for every list of the site, remembered by the browser.
  function viewToggles() {
    document.querySelectorAll(".view-toggle").forEach(function (group) {
      group.hidden = false;
      group.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-view]");
        if (button) setView(button.getAttribute("data-view"), true);
      });
    });
    setView(storedView(), false);
  }

  // "Copy BibTeX" buttons: shown only when the clipboard can be used.
  function copyButtons() {
    if (!(navigator.clipboard && window.isSecureContext)) return;
    document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.textContent.trim()).then(
          function () { button.textContent = "Copied"; },
          function () { button.textContent = "Copy failed"; }
        ).then(function () {
          window.setTimeout(function () { button.textContent = label; }, 1800);
        });
      });
    });
  }

  // The tag filter of a digest page: the chips pressed keep the papers that carry any of their tags.
  function tagFilter(box) {
    var list = document.getElementById(box.getAttribute("data-filter-list"));
    if (!list) return;
    var items = Array.prototype.slice.call(list.querySelectorAll(":scope > .paper-item"));
    var chips = box.querySelector(".tag-filter-chips");
    var buttons = Array.prototype.slice.call(box.querySelectorAll("button[data-tag]"));
    var clear = box.querySelector(".tag-filter-clear");
    var more = box.querySelector(".tag-filter-more");
    var status = box.querySelector(".tag-filter-status");
    items.forEach(function (item, i) { item.setAttribute("data-n", String(i + 1)); });

    function apply() {
      var chosen = buttons.filter(function (b) { return b.getAttribute("aria-pressed") === "true"; })
        .map(function (b) { return b.getAttribute("data-tag"); });
      var shown = 0;
      items.forEach(function (item) {
        var tags = (item.getAttribute("data-tags") || "").split(" ");
        var keep = !chosen.length || chosen.some(function (tag) { return tags.indexOf(tag) !== -1; });
        item.hidden = !keep;
        if (keep) shown += 1;
      });
      if (chosen.length) list.setAttribute("data-filtered", "");
      else list.removeAttribute("data-filtered");
      clear.hidden = !chosen.length;
      status.textContent = chosen.length ? shown + " of " + items.length + " papers shown" : "";
    }

    box.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-tag]");
      if (!button) return;
      button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
      apply();
    });
    clear.addEventListener("click", function () {
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      apply();
    });
    box.hidden = false;
    // Two rows of chips, the others a click away (a long digest has dozens of tags).
    var label = more.textContent;
    function collapse(yes) {
      chips.classList.toggle("collapsed", yes);
      more.setAttribute("aria-expanded", String(!yes));
      more.textContent = yes ? label : "Fewer tags";
    }
    collapse(true);
    if (chips.scrollHeight <= chips.clientHeight + 1) {
      collapse(false);
      more.hidden = true;
    }
    more.addEventListener("click", function () { collapse(!chips.classList.contains("collapsed")); });
    // A chip reached with the keyboard is never out of sight.
    chips.addEventListener("focusin", function () {
      if (chips.classList.contains("collapsed")) collapse(false);
    });
  }

  function start() {
    viewToggles();
    copyButtons();
    document.querySelectorAll(".tag-filter[data-filter-list]").forEach(tagFilter);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
