/* Basirat admin behaviour. No inline script anywhere (CSP script-src 'self'):
 * pages emit data, this file acts on it.
 *  - Charts: <div class="chart" data-chart="ID"> + <script type="application/json" id="ID">
 *    {"kind": "line"|"bars", "x": [unix seconds...], "series": [{"label": "...", "values": [...]}],
 *     "unit": "day"|"month", "x_label": "Day"}
 *    The legend shows the values under the cursor, and the last point's while the cursor is away.
 *    Charts follow the page: <html lang dir data-calendar> decide the digits, the calendar of the
 *    time axis (Jalali through Intl's persian calendar) and, right to left, time running leftwards.
 *  - Copy buttons: <button data-copy="ELEMENT_ID" data-copied="WORD SHOWN AFTER">
 *  - Slow pages: a form or links inside an element with data-busy="TEXT" mark themselves busy on use.
 */
(function () {
  "use strict";
  var COLORS = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6"];

  function readData(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  function barsPath() {
    return window.uPlot.paths && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.7, 40] }) : null;
  }

  var STEPS = { day: 86400, month: 30 * 86400 };

  /* Half a step of room on each side so the first and last bars are whole; a single bar gets a
   * step of its unit (a day, a month), not a second, so the axis around it stays sane. */
  function padRange(unit) {
    return function (u) {
      var xs = u.data[0];
      var step = xs.length > 1 ? xs[1] - xs[0] : STEPS[unit] || STEPS.day;
      return [xs[0] - step / 2, xs[xs.length - 1] + step / 2];
    };
  }

  var root = document.documentElement;
  var RTL = root.getAttribute("dir") === "rtl";
  var LOCALE = root.getAttribute("lang") || "en";
  var CALENDAR = root.getAttribute("data-calendar") === "jalali" ? "-u-ca-persian" : "";

  function formatter(options) {
    try { return new Intl.DateTimeFormat(LOCALE + CALENDAR, options); } catch (e) { return new Intl.DateTimeFormat("en", options); }
  }
  var DAY = formatter({ timeZone: "UTC", month: "short", day: "numeric" });
  var MONTH = formatter({ timeZone: "UTC", month: "short", year: "numeric" });
  var NUMBER = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

  /* Axis labels in the page's language and calendar: days, or months when the ticks are a month apart. */
  function timeValues(unit) {
    return function (u, ticks, space, incr) {
      var monthly = unit === "month" || incr >= 28 * 86400;
      return ticks.map(function (t) { return (monthly ? MONTH : DAY).format(new Date(t * 1000)); });
    };
  }

  /* Legend values: under the cursor, else at the last point (never a bare "--"). */
  function legendValue(format) {
    return function (u, v, si, idx) {
      var column = u.data[si];
      if (idx == null) { idx = column.length - 1; v = column[idx]; }
      return v == null ? "–" : format(v);
    };
  }

  function numberValues(u, ticks) {
    return ticks.map(function (v) { return NUMBER.format(v); });
  }

  function drawChart(el) {
    var data = readData(el.getAttribute("data-chart"));
    if (!data || !window.uPlot) { return; }
    var bars = data.kind === "bars";
    var unit = data.unit || "day";
    var time = data.time !== false;
    var when = unit === "month" ? MONTH : DAY;
    var series = [{ label: data.x_label || " ", value: legendValue(function (t) { return time ? when.format(new Date(t * 1000)) : NUMBER.format(t); }) }];
    var columns = [data.x];
    (data.series || []).forEach(function (s, i) {
      var color = s.color || COLORS[i % COLORS.length];
      series.push({
        label: s.label, stroke: color, width: bars ? 0 : 2,
        fill: bars ? color + "cc" : color + "1a",
        paths: bars ? barsPath() : undefined, points: { show: !bars && data.x.length < 40 },
        value: legendValue(function (v) { return NUMBER.format(v); })
      });
      columns.push(s.values);
    });
    var xAxis = { stroke: "#64748b", grid: { show: false }, ticks: { stroke: "#e2e8f0" },
                  values: time ? timeValues(unit) : numberValues };
    if (unit === "month") { xAxis.splits = function () { return data.x; }; }
    var height = parseInt(el.getAttribute("data-height") || "240", 10);
    var opts = {
      width: Math.max(el.clientWidth, 200), height: height, series: series,
      scales: { x: { time: time, range: bars ? padRange(unit) : null, dir: RTL ? -1 : 1 } },
      axes: [
        xAxis,
        { stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { show: false }, size: 56,
          side: RTL ? 1 : 3, values: numberValues }
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } }
    };
    var plot = new window.uPlot(opts, columns, el);
    el.uplot = plot;  // for the browser tests, which read the scales drawn
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(el.clientWidth, 200), height: height });
    });
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = target.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { /* selection stays for manual copy */ }
    }
  }

  // Parts of a page that cost more reads than the page itself (a profile's
  // segments, scores and recommendations) come from their own URL, which
  // answers server-rendered, escaped HTML; without script the link inside stays.
  // With data-refresh="SECONDS" the part is fetched again on that interval
  // (the installation check, while the first events arrive).
  function loadFragment(el) {
    var every = parseFloat(el.getAttribute("data-refresh"));
    fetch(el.getAttribute("data-fragment"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { el.innerHTML = html; })
      .catch(function () {
        var note = el.querySelector("p");
        if (note) { note.insertAdjacentText("afterbegin", (el.getAttribute("data-failed") || "Could not load this part.") + " "); }
      })
      .then(function () {
        if (every > 0) { setTimeout(function () { loadFragment(el); }, every * 1000); }
      });
  }

  /* A page that takes a second or two to count says it is counting, from the click on. */
  function markBusy(container) {
    var busy = function (control) {
      container.setAttribute("aria-busy", "true");
      if (control) { control.setAttribute("aria-busy", "true"); }
      if (!container.querySelector(".busy-note")) {
        var note = document.createElement("span");
        note.className = "busy-note";
        note.setAttribute("role", "status");
        note.textContent = container.getAttribute("data-busy");
        (container.querySelector(".form-actions") || container).appendChild(note);
      }
    };
    if (container.tagName === "FORM") {
      container.addEventListener("submit", function () { busy(container.querySelector("button[type=submit]")); });
    } else {
      container.querySelectorAll("a").forEach(function (a) {
        a.addEventListener("click", function () { busy(a); });
      });
    }
  }

  /* Back to a page kept in the browser's cache: nothing is being counted any more. */
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("[aria-busy]").forEach(function (el) { el.removeAttribute("aria-busy"); });
    document.querySelectorAll(".busy-note").forEach(function (el) { el.remove(); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(drawChart);
    document.querySelectorAll("[data-busy]").forEach(markBusy);
    document.querySelectorAll("[data-fragment]").forEach(loadFragment);
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () { copy(b); });
    });
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.switcher[open]").forEach(function (d) {
        if (!d.contains(event.target)) { d.removeAttribute("open"); }
      });
    });
  });
}());
