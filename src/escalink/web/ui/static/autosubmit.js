// Sandbox sign-in: post the signed token at once, as Zendesk does; the Continue button stays for keyboards.
// Back on this very page right after posting it means the browser did not keep the session cookie:
// stop and say so rather than post again and again.
(function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (!form) { return; }
  if (document.referrer !== window.location.href) {
    form.submit();
  } else {
    document.getElementById("cookie-note").hidden = false;
  }
})();
