/* Segment builder: a live count of who matches while the form is filled in.
   The form works without this script (its Preview button); here every change
   asks the count endpoint, 400 ms after the last keystroke, and shows the
   count or the problems it reports. */
(function () {
  "use strict";

  function start(form) {
    var out = form.querySelector("[data-preview]");
    var text = document.getElementById("builder-text").dataset;
    var format = new Intl.NumberFormat(document.documentElement.lang || "en");
    var timer = null;
    var pending = null;

    function query() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (key !== "csrf_token" && key !== "action") params.append(key, value);
      });
      return params.toString();
    }

    function show(message, isError) {
      out.textContent = message;
      out.classList.toggle("field-error", Boolean(isError));
      out.setAttribute("role", isError ? "alert" : "status");
    }

    function refresh() {
      if (pending) pending.abort();
      pending = new AbortController();
      show(text.busy, false);
      fetch(form.dataset.countUrl + "?" + query(), {
        signal: pending.signal,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (result.ok) {
            show(text.count.replace("{count}", format.format(result.body.count)), false);
          } else {
            var errors = result.body.errors || {};
            show(Object.keys(errors).map(function (k) { return errors[k]; }).join(" · "), true);
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError") show(text.failed, true);
        });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.builder[data-count-url]");
    if (form && window.fetch && window.AbortController) start(form);
  });
})();
