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
      });
    }
  });
})();
