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
// Tabs: the panel names its tab (a tab click, or a link inside a panel such as "Create issue"), and
// the tab bar marks it for screen readers and styling.
document.addEventListener("htmx:afterSwap", function (event) {
  var panel = event.detail.target;
  if (!panel || panel.id !== "panel") { return; }
  var marker = panel.querySelector("[data-tab]");
  if (!marker) { return; }
  var key = marker.getAttribute("data-tab");
  document.querySelectorAll('[role="tab"]').forEach(function (t) {
    t.setAttribute("aria-selected", t.id === "tab-" + key ? "true" : "false");
  });
});
// Tabs by keyboard, as the ARIA tabs pattern has it: arrows (and Home, End) move to a tab and open it.
document.addEventListener("keydown", function (event) {
  var tab = event.target;
  if (!tab || !tab.getAttribute || tab.getAttribute("role") !== "tab") { return; }
  var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll('[role="tab"]'));
  var at = tabs.indexOf(tab);
  var next = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1}[event.key];
  if (next === undefined) { return; }
  event.preventDefault();
  var chosen = tabs[(next + tabs.length) % tabs.length];
  chosen.focus();
  chosen.click();
});
// A tab opened from the keyboard keeps the focus: a panel's own autofocus is for its steps, not for
// someone moving along the tabs (htmx focuses [autofocus] when the swap settles, so drop it before).
var focusedTab = null;
document.addEventListener("htmx:beforeRequest", function (event) {
  var elt = event.detail.elt;
  focusedTab = elt && elt.getAttribute && elt.getAttribute("role") === "tab" && document.activeElement === elt
    ? elt : null;
});
document.addEventListener("htmx:afterSwap", function (event) {
  var panel = event.detail.target;
  if (!focusedTab || !panel || panel.id !== "panel") { return; }
  panel.querySelectorAll("[autofocus]").forEach(function (el) { el.removeAttribute("autofocus"); });
  focusedTab = null;
});
