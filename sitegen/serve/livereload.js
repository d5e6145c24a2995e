// sitegen serve --watch: keeps an event stream open and reloads the page when the server says it changed.
// Injected into every served page (sitegen/serve/livereload.py); its script element carries the generation
// the page was served at, the output file it shows and the stream's address as data attributes.
(function () {
  var settings = document.currentScript.dataset;
  var since = settings.since, file = settings.file, endpoint = settings.endpoint;
  var source = null, timer = null;
  function stop() {
    clearTimeout(timer);
    if (source) { source.close(); source = null; }
  }
  function start() {
    if (source || document.visibilityState === "hidden") return;
    source = new EventSource(endpoint + "?since=" + encodeURIComponent(since) +
      "&file=" + encodeURIComponent(file) + "&path=" + encodeURIComponent(location.pathname));
    source.addEventListener("reload", function () { stop(); location.reload(); });
    source.addEventListener("generation", function (event) { since = event.data; });
    source.onerror = function () { stop(); timer = setTimeout(start, 1000); };
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") stop(); else start();
  });
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", start);
  start();
})();
