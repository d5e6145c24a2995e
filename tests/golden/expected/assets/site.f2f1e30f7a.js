// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // "Copy BibTeX" buttons: shown only when the clipboard can be used.
  if (navigator.clipboard && window.isSecureContext) {
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
})();
