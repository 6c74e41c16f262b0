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

  // The fields the agent has been in, sent with each check: the live messages name the gaps of those
  // only, so typing a summary does not light up every other empty field (submit names them all).
  function visit(event) {
    var el = event.target;
    var form = el && el.form;
    if (!form || form.id !== "esc-form" || !el.name || el.type === "hidden") { return; }
    var box = form.querySelector('input[name="visited"]');
    if (!box) { return; }
    var name = el.name.replace(/\[.*$/, "");
    var seen = box.value ? box.value.split(" ") : [];
    if (seen.indexOf(name) < 0) { seen.push(name); box.value = seen.join(" "); }
  }
  // Each input says whether a message beside it names a problem (the messages change with every check).
  function markInvalid() {
    var form = document.getElementById("esc-form");
    if (!form) { return; }
    form.querySelectorAll("[aria-describedby]").forEach(function (el) {
      if (!el.name) { return; }
      var bad = el.getAttribute("aria-describedby").split(" ").some(function (id) {
        var note = id.indexOf("err-") === 0 ? document.getElementById(id) : null;
        return note && note.textContent.trim() !== "";
      });
      if (bad) { el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
    });
  }
  document.addEventListener("htmx:afterSettle", markInvalid);
  document.addEventListener("htmx:oobAfterSwap", markInvalid);
  document.addEventListener("input", visit, true);
  document.addEventListener("change", visit, true);
  document.addEventListener("focusout", visit, true);
})();
