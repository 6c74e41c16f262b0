// Signed in through Zendesk: ask the Apps framework (ZAF SDK) which ticket this sidebar belongs to and open
// Escalink's page for it. The query string (origin, app_guid) goes along so later pages can reach ZAF too.
(function () {
  var status = document.getElementById("zaf-status");
  var fallback = document.getElementById("zaf-open");
  function askForNumber(message) {
    status.textContent = message;
    fallback.hidden = false;
  }
  var client = window.ZAFClient ? window.ZAFClient.init() : false;
  if (!client) {
    askForNumber("This page was not opened by Zendesk, so it cannot tell the ticket.");
    return;
  }
  client.get("ticket.id").then(function (data) {
    var id = data && data["ticket.id"];
    if (/^[0-9]+$/.test(String(id))) {
      window.location.replace("/app/tickets/" + id + window.location.search);
    } else {
      askForNumber("Zendesk did not say which ticket is open.");
    }
  }, function () {
    askForNumber("Zendesk did not say which ticket is open.");
  });
})();
