// Linked issues and Notify panels. Loaded by each panel (htmx runs it again on every swap): set up once.
(function () {
  if (window.escalinkPanels) { return; }
  window.escalinkPanels = true;

  // Notify form after a PHI refusal: Send stays off until the agent changes what was flagged (the
  // server checks again anyway); "Not PHI" stays off until a reason of the minimum length is given.
  function sync(form) {
    var reason = form.querySelector("#phi-reason");
    var override = form.querySelector('button[name="phi_action"][value="override"]');
    if (reason && override) {
      override.disabled = reason.value.trim().length < (parseInt(reason.getAttribute("minlength"), 10) || 1);
    }
  }
  document.addEventListener("input", function (event) {
    var target = event.target;
    var form = target && target.closest ? target.closest("form[data-phi-flagged]") : null;
    if (!form) { return; }
    if (target.id !== "phi-reason") {
      var send = form.querySelector("#notify-send");
      if (send) { send.disabled = false; }
    }
    sync(form);
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target && target.closest ? target.closest("form[data-phi-flagged]") : null;
    if (form && (target.type === "checkbox" || target.type === "radio" || target.tagName === "SELECT")) {
      var send = form.querySelector("#notify-send");
      if (send) { send.disabled = false; }
    }
  });

  // Details of a linked issue: "Hide details" empties its region and gives focus back to the eye button.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-close-details]") : null;
    if (!button) { return; }
    var region = button.closest(".details");
    if (!region) { return; }
    var opener = document.querySelector('[aria-controls="' + region.id + '"]');
    region.innerHTML = "";
    if (opener) { opener.focus(); }
  });
})();
