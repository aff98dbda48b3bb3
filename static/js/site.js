// Small behaviours of every page. No inline scripts anywhere: the
// Content-Security-Policy allows scripts from our own files only.
(function () {
  // Tell the server the browser's time zone, so dates show in the user's own.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: dates stay in the server's zone */ }

  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("training-log");
    if (log) log.scrollTop = log.scrollHeight; // the newest lines in view

    // Choosing a language applies it at once.
    var language = document.getElementById("language-select");
    if (language) {
      language.addEventListener("change", function () { this.form.submit(); });
    }

    // New experiment: picking a suggested model also picks its framework and task.
    var model = document.getElementById("id_model_name");
    if (model) {
      model.addEventListener("change", function () {
        var option = document.querySelector('#model-suggestions option[value="' + CSS.escape(this.value) + '"]');
        if (!option) return;
        document.getElementById("id_framework").value = option.dataset.framework;
        document.getElementById("id_task_type").value = option.dataset.task;
        showDatasetsFor(option.dataset.task);
      });
    }

    // New experiment: offer only the starting weights there are for the chosen model.
    var weights = document.getElementById("id_initial_weights");
    var earlier = document.querySelector("select[data-filter-by-model]");
    function showWeightsFor() {
      if (!weights || !model) return;
      var chosen = document.getElementById("id_framework").value + ":" + model.value.trim();
      var pretrained = weights.querySelector('option[value="pretrained"]');
      var available = weights.dataset.pretrainedModels.split(" ").indexOf(chosen) !== -1;
      pretrained.disabled = !available;
      document.getElementById("pretrained-missing").hidden = available || weights.value !== "pretrained";
      if (!earlier) return;
      Array.prototype.forEach.call(earlier.options, function (option) {
        if (!option.value) return;
        option.hidden = option.disabled = option.dataset.model !== chosen;
      });
      if (earlier.selectedOptions.length && earlier.selectedOptions[0].disabled) earlier.value = "";
      earlier.closest(".field").hidden = weights.value !== "experiment";
      if (weights.value !== "experiment") earlier.value = ""; // sent only with "experiment"
    }
    if (weights) {
      [model, weights, document.getElementById("id_framework")].forEach(function (element) {
        element.addEventListener("change", showWeightsFor);
      });
      model.addEventListener("input", showWeightsFor);
      showWeightsFor();
    }

    // New experiment: offer only the dataset versions that fit the chosen task.
    var datasets = document.querySelector("select[data-filter-by-task]");
    var task = datasets && document.getElementById(datasets.dataset.filterByTask);
    function showDatasetsFor(value) {
      if (!datasets) return;
      var firstFit = null;
      Array.prototype.forEach.call(datasets.options, function (option) {
        var fits = option.dataset.tasks.split(" ").indexOf(value) !== -1;
        option.hidden = option.disabled = !fits;
        if (fits && !firstFit) firstFit = option;
      });
      if (datasets.selectedOptions.length === 0 || datasets.selectedOptions[0].disabled) {
        datasets.value = firstFit ? firstFit.value : "";
      }
    }
    if (task) {
      task.addEventListener("change", function () { showDatasetsFor(this.value); });
      showDatasetsFor(task.value);
    }

    // Datasets page: upload with a progress bar, then show the new version.
    var upload = document.getElementById("upload-form");
    if (upload) {
      upload.addEventListener("submit", function (event) {
        event.preventDefault();
        var bar = document.getElementById("upload-progress");
        var status = document.getElementById("upload-status");
        var request = new XMLHttpRequest();
        request.open("POST", upload.action);
        request.setRequestHeader("Accept", "application/json");
        request.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
        });
        // Small uploads may finish before any progress event: the bar is full once the body is sent.
        request.upload.addEventListener("load", function () { bar.value = 100; });
        request.addEventListener("load", function () {
          var body = {};
          try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON: shown as is */ }
          if (request.status < 300 && body.url) {
            window.location = body.url;
          } else {
            status.textContent = body.detail || request.statusText;
            bar.value = 0;
          }
        });
        request.addEventListener("error", function () { status.textContent = status.dataset.failed; });
        bar.hidden = false;
        request.send(new FormData(upload));
      });
    }
  });
})();
