// Pagefind's search API as sitegen's search page hands it to Pagefind's UI: every text the UI inserts as HTML
// comes out of here escaped. sitegen.build.search writes this file to pagefind/escaped/pagefind.js of every bundle it
// builds, and static/search.js gives the UI that folder as its bundlePath, so the UI imports this module where
// it would import ../pagefind.js (the same instance that search.js loads and merges the shards into).
//
// Why: the UI inserts filter names, filter values and excerpts with innerHTML ({@html} in its Svelte source),
// while filter values in the index are plain text: a tag named <img src=x onerror=...> ran its script on the
// search page. Here they become text the browser shows as it is, whatever the index holds (a site's own
// templates, an older build, a Pagefind that decodes entities once more or once less). Titles and other meta
// values need nothing: the UI shows them as text.
//
// Three forms of a filter value meet here; for a tag named  a"b<c :
// - the text itself,  a"b<c : what the page and the address show, and what a search asks for;
// - its stored form,  a\"b<c : the inside of its JSON string. Pagefind matches a filter against the JSON of
//   the value asked for without unescaping it, so sitegen.build.search.filter_value stores values that way;
// - its escaped form,  a&quot;b&lt;c : what the UI shows, and carries in its checkboxes and ticked filters.
// filters() and search() turn stored values into escaped ones; what the UI asks for goes back to the text.
import * as pagefind from "../pagefind.js";

var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
var UNESCAPES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

// static/search.js has the same two functions (a classic script cannot import them): keep them alike.
export function escapeText(text) {
  return String(text).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
}

export function unescapeText(text) {
  return String(text).replace(/&(?:amp|lt|gt|quot|#39);/g, function (e) { return UNESCAPES[e]; });
}

// A stored filter value's text. A value another template stored as it is (not JSON) stays as it is.
export function storedText(stored) {
  if (String(stored).indexOf("\\") === -1) return String(stored);
  try {
    return JSON.parse('"' + stored + '"');
  } catch (error) {
    return String(stored);
  }
}

// {name: {stored value: count}} -> {escaped name: {escaped value: count}}.
function escapeCounts(counts) {
  var out = {};
  Object.keys(counts || {}).forEach(function (name) {
    var values = {};
    Object.keys(counts[name] || {}).forEach(function (value) {
      values[escapeText(storedText(value))] = counts[name][value];
    });
    out[escapeText(storedText(name))] = values;
  });
  return out;
}

// {name: [stored value, ...]} of one page -> {name: [text, ...]} (search.js shows them as text).
function pageFilters(filters) {
  var out = {};
  Object.keys(filters || {}).forEach(function (name) {
    out[storedText(name)] = (filters[name] || []).map(storedText);
  });
  return out;
}

// The filters of a search as the UI sends them ({name: [value, ...]} or {name: value}), escaped, back to text.
function unescapeSelection(options) {
  if (!options || !options.filters) return options;
  var filters = {};
  Object.keys(options.filters).forEach(function (name) {
    var values = options.filters[name];
    filters[unescapeText(name)] = Array.isArray(values) ? values.map(unescapeText)
      : typeof values === "string" ? unescapeText(values) : values;
  });
  return Object.assign({}, options, { filters: filters });
}

// An excerpt is the page's text, escaped by Pagefind, with <mark> around the words found: any other tag in it
// is shown as text.
function safeExcerpt(excerpt) {
  return typeof excerpt === "string" ? excerpt.replace(/<(?!\/?mark>)/g, "&lt;") : excerpt;
}

function safeData(data) {
  if (!data) return data;
  var out = Object.assign({}, data, { excerpt: safeExcerpt(data.excerpt), filters: pageFilters(data.filters) });
  if (Array.isArray(data.sub_results)) {
    out.sub_results = data.sub_results.map(function (sub) {
      return Object.assign({}, sub, { excerpt: safeExcerpt(sub.excerpt) });
    });
  }
  return out;
}

function safeResponse(response) {
  if (!response) return response; // a debounced search that a later one replaced
  return Object.assign({}, response, {
    filters: escapeCounts(response.filters),
    totalFilters: escapeCounts(response.totalFilters),
    results: (response.results || []).map(function (result) {
      return Object.assign({}, result, {
        data: function () { return result.data().then(safeData); }
      });
    })
  });
}

export function options(settings) { return pagefind.options(settings); }
export function init() { return pagefind.init(); }
export function destroy() { return pagefind.destroy(); }
export function mergeIndex(path, settings) { return pagefind.mergeIndex(path, settings); }
export function preload(term, settings) { return pagefind.preload(term, unescapeSelection(settings)); }
export function filters() { return pagefind.filters().then(escapeCounts); }

export function search(term, settings) {
  return pagefind.search(term, unescapeSelection(settings)).then(safeResponse);
}

export function debouncedSearch(term, settings, wait) {
  return pagefind.debouncedSearch(term, unescapeSelection(settings), wait).then(safeResponse);
}
