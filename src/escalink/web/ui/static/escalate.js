// Create issue panel. Loaded with the panel (htmx runs it on every swap): set up once.
(function () {
  if (window.escalinkEscalate) { return; }
  window.escalinkEscalate = true;

  // The inline check answers with out-of-band fragments for every message, PHI block and the Create issue
  // button. Leaving the ones that did not change in place keeps a button the agent is pressing: leaving a
  // field fires a check, and a button replaced between mouse down and up would never get the click.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    var target = detail && detail.target;
    if (!target || !target.closest || !target.closest("#esc-form") || !detail.fragment) { return; }
    var incoming = detail.fragment.firstElementChild;
    if (incoming && incoming.id === target.id && detail.fragment.childElementCount === 1) {
      if (incoming.isEqualNode(target)) { detail.shouldSwap = false; }
    } else if (detail.fragment.textContent === target.textContent && !target.firstElementChild) {
      detail.shouldSwap = false;
    }
  });

  // "Back to Linked issues" loads that panel with htmx; mark its tab as the selected one, as the tab does.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-show-tab]") : null;
    if (!button) { return; }
    var tab = document.getElementById("tab-" + button.getAttribute("data-show-tab"));
    if (!tab) { return; }
    document.querySelectorAll('[role="tab"]').forEach(function (t) { t.setAttribute("aria-selected", "false"); });
    tab.setAttribute("aria-selected", "true");
  });
})();
