// Live updates over /ws/projects/<id>. The server renders every fragment; this
// script only decides which one to fetch again and swaps it in. On (re)connect
// it refetches the whole fragment, so nothing that happened while the socket
// was down is missed.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-project]");
  if (!root || !window.WebSocket) return;
  var projectId = root.dataset.liveProject;
  // An experiment's page follows one experiment, the compare page several; the project page all of them.
  var watched = (root.dataset.liveExperiments || root.dataset.liveExperiment || "").split(" ").filter(Boolean);
  var target = root.dataset.liveTarget || (watched.length ? "#experiment-panel" : "#experiments-section");
  var indicator = root.querySelector("[data-live-indicator]");
  var retries = 0;
  var refreshTimer = null;
  var EXPERIMENT_PAGE_ONLY = ["training_log", "export_changed", "prediction_requested", "prediction_ready"];

  function setState(state) {
    root.dataset.liveState = state;
    if (indicator) indicator.textContent = indicator.dataset[state]; // the page's words, in its language
  }

  function swap(selector, html) {
    var current = document.querySelector(selector);
    if (!current) return;
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    if (template.content.firstElementChild) current.replaceWith(template.content.firstElementChild);
  }

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    });
  }

  // The whole fragment: the experiments section (with the page's query: filters, order, page,
  // selection), the experiment panel or the comparison.
  function refreshAll() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      var url = root.dataset.liveRefresh + (watched.length ? "" : window.location.search);
      fetchHtml(url).then(function (html) {
        swap(target, html);
        var log = document.getElementById("training-log");
        if (log) log.scrollTop = log.scrollHeight; // the newest lines in view
      }).catch(function () {});
    }, 50);
  }

  function refreshRow(id) {
    var row = document.getElementById("experiment-" + id);
    if (!row) return;
    fetchHtml("/projects/" + projectId + "/experiments/" + id + "/row" + window.location.search).then(function (html) {
      swap("#experiment-" + id, html);
    }).catch(function () {});
  }

  function handle(message) {
    if (!message.experiment_id) return;
    // The log, the exports and "try it": only the experiment's own page shows them.
    if (EXPERIMENT_PAGE_ONLY.indexOf(message.type) !== -1 && !root.dataset.liveExperiment) return;
    if (watched.length) {
      if (watched.indexOf(String(message.experiment_id)) !== -1) refreshAll();
    } else if (message.type === "training_progress") {
      refreshRow(message.experiment_id);
    } else {
      refreshAll(); // a new experiment or a status change: rows, tab counts and pages may all move
    }
    document.dispatchEvent(new CustomEvent("experiment-event", { detail: message }));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/projects/" + projectId);
    socket.onopen = function () {
      retries = 0;
      setState("connected");
      refreshAll();
    };
    socket.onmessage = function (event) {
      handle(JSON.parse(event.data));
    };
    socket.onclose = function (event) {
      setState("disconnected");
      if (event.code === 4404) return; // not this user's project
      retries += 1;
      setTimeout(connect, Math.min(10000, 250 * Math.pow(2, retries)));
    };
    window.liveSocket = socket;
  }

  connect();
})();
