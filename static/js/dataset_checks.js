// Versions a worker is checking: their progress bars follow the user's live
// dataset events over /ws/datasets, and the page reloads when a check ends.
// On every (re)connect it asks the API where each check stands, so nothing
// that happened while the socket was down is missed.
(function () {
  "use strict";
  var retries = 0;

  function bars() {
    return document.querySelectorAll("[data-check-progress]");
  }

  function barFor(versionId) {
    return document.querySelector('[data-check-progress="' + versionId + '"]');
  }

  function resync() {
    bars().forEach(function (bar) {
      fetch("/api/v1/dataset-versions/" + bar.dataset.checkProgress, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (version) {
          if (!version) return;
          if (version.status !== "pending") window.location.reload();
          else bar.value = version.check_progress;
        })
        .catch(function () {});
    });
  }

  function handle(message) {
    var bar = barFor(message.version_id);
    if (!bar) return;
    if (message.type === "check_progress") bar.value = message.progress;
    else if (message.type === "version_checked") window.location.reload();
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/datasets");
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "subscribed") {
        retries = 0;
        resync();
      } else {
        handle(message);
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4401) return; // signed out
      retries += 1;
      setTimeout(connect, Math.min(10000, 250 * Math.pow(2, retries)));
    };
  }

  if (bars().length && window.WebSocket) connect();
})();
