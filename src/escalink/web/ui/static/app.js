// Every HTMX request carries the session's CSRF token; the server refuses changes without it.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
// Error answers (4xx/5xx) carry HTML meant for the agent: show them instead of dropping them.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status >= 400) { event.detail.shouldSwap = true; event.detail.isError = false; }
});
// Tabs: mark the chosen one for screen readers and styling.
document.addEventListener("htmx:afterRequest", function (event) {
  var tab = event.detail.elt;
  if (tab && tab.getAttribute && tab.getAttribute("role") === "tab") {
    document.querySelectorAll('[role="tab"]').forEach(function (t) { t.setAttribute("aria-selected", "false"); });
    tab.setAttribute("aria-selected", "true");
  }
});
