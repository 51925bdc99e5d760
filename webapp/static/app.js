/* Basirat admin behaviour. No inline script anywhere (CSP script-src 'self'):
 * pages emit data, this file acts on it.
 *  - Charts: <div class="chart" data-chart="ID"> + <script type="application/json" id="ID">
 *    {"kind": "line"|"bars", "x": [unix seconds...], "series": [{"label": "...", "values": [...]}]}
 *    Charts follow the page: <html lang dir data-calendar> decide the digits, the calendar of the
 *    time axis (Jalali through Intl's persian calendar) and, right to left, time running leftwards.
 *  - Copy buttons: <button data-copy="ELEMENT_ID" data-copied="WORD SHOWN AFTER">
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

  /* Half a step of room on each side so the first and last bars are whole. */
  function padRange(u, min, max) {
    var xs = u.data[0];
    var step = xs.length > 1 ? xs[1] - xs[0] : 1;
    return [min - step / 2, max + step / 2];
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
  function timeValues(u, ticks, space, incr) {
    var monthly = incr >= 28 * 86400;
    return ticks.map(function (t) { return (monthly ? MONTH : DAY).format(new Date(t * 1000)); });
  }

  function numberValues(u, ticks) {
    return ticks.map(function (v) { return NUMBER.format(v); });
  }

  function drawChart(el) {
    var data = readData(el.getAttribute("data-chart"));
    if (!data || !window.uPlot) { return; }
    var bars = data.kind === "bars";
    var series = [{}];
    var columns = [data.x];
    (data.series || []).forEach(function (s, i) {
      var color = s.color || COLORS[i % COLORS.length];
      series.push({
        label: s.label, stroke: color, width: bars ? 0 : 2,
        fill: bars ? color + "cc" : color + "1a",
        paths: bars ? barsPath() : undefined, points: { show: !bars && data.x.length < 40 }
      });
      columns.push(s.values);
    });
    var height = parseInt(el.getAttribute("data-height") || "240", 10);
    var opts = {
      width: Math.max(el.clientWidth, 200), height: height, series: series,
      scales: { x: { time: data.time !== false, range: bars ? padRange : null, dir: RTL ? -1 : 1 } },
      axes: [
        { stroke: "#64748b", grid: { show: false }, ticks: { stroke: "#e2e8f0" },
          values: data.time !== false ? timeValues : numberValues },
        { stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { show: false }, size: 56,
          side: RTL ? 1 : 3, values: numberValues }
      ],
      legend: { show: series.length > 2, live: false },
      cursor: { drag: { x: false, y: false } }
    };
    var plot = new window.uPlot(opts, columns, el);
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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(drawChart);
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
