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

  // Notify's target: choosing an issue picks "one issue" (or, for Tier 1, the hand-off), and the send
  // button says what it will do.
  function label(form) {
    var send = form.querySelector("#notify-send");
    var chosen = form.querySelector('input[name="target"]:checked');
    var issue = form.querySelector("#target-issue");
    if (!send || !chosen) { return; }
    if (!send.getAttribute("data-all")) { send.setAttribute("data-all", send.textContent.trim()); }
    if (chosen.value === "one" && issue && issue.value) {
      send.textContent = "Send to " + issue.value;
    } else if (chosen.value === "handoff") {
      send.textContent = "Hand off to Tier 2";
    } else {
      send.textContent = send.getAttribute("data-all");
    }
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target && target.closest ? target.closest("#notify-form") : null;
    if (!form) { return; }
    if (target.id === "target-issue" && target.value) {
      var single = form.querySelector("#target-one") || form.querySelector("#target-handoff");
      if (single) { single.checked = true; }
    }
    label(form);
  });

  // Details of a linked issue: the eye button toggles its region (aria-expanded says which); "Hide
  // details" empties the region and gives focus back to the eye button.
  function opener(region) { return document.querySelector('[aria-controls="' + region.id + '"]'); }
  function hide(region) {
    var eye = opener(region);
    region.innerHTML = "";
    if (eye) { eye.setAttribute("aria-expanded", "false"); eye.focus(); }
  }
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-close-details]") : null;
    var region = button ? button.closest(".details") : null;
    if (region) { hide(region); }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var eye = event.detail.elt;
    if (!eye || eye.getAttribute("aria-expanded") !== "true") { return; }
    var region = document.getElementById(eye.getAttribute("aria-controls"));
    if (region) { event.preventDefault(); hide(region); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = event.detail.target;
    if (!region || !region.classList || !region.classList.contains("details")) { return; }
    var eye = opener(region);
    if (eye) { eye.setAttribute("aria-expanded", region.innerHTML.trim() ? "true" : "false"); }
  });
})();
