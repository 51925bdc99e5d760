/* A Jalali date picker over a plain text field, for sites that show the Jalali calendar.
 *
 *   <input type="text" name="from" value="1404-10-20" data-jalali-picker='{"months": [...12 names],
 *     "days": [...7 short names from Saturday], "day_names": [...7 full names], "digits": "0123456789"
 *     or "۰۱۲۳۴۵۶۷۸۹", "today": "1404-10-20"}' data-picker-open="Choose a date"
 *     data-picker-previous="Previous month" data-picker-next="Next month" data-picker-close="Close">
 *
 * The field stays what it was (typed YYYY-MM-DD in any digits; the server parses it), so the form
 * works without this file. A button beside it opens a month grid: arrow keys move by day and week
 * (mirrored right to left), Page Up/Down by month, Home/End to the week's ends, Enter or Space
 * picks, Escape closes. Jalali arithmetic is the server's (jdatetime): leap years by the 33-year
 * cycle. No dependencies, no inline styles (CSP), classes styled in app.css.
 */
(function () {
  "use strict";
  var LEAP = [1, 5, 9, 13, 17, 22, 26, 30];
  var EPOCH_YEAR = 1379;
  var EPOCH = Date.UTC(2000, 2, 20) / 86400000; /* 1 Farvardin 1379, in days since 1970-01-01 */
  var counter = 0;

  function isLeap(year) { return LEAP.indexOf(((year % 33) + 33) % 33) >= 0; }

  function monthLength(year, month) { return month <= 6 ? 31 : month <= 11 ? 30 : (isLeap(year) ? 30 : 29); }

  function yearStart(year) {
    var day = EPOCH, y;
    for (y = EPOCH_YEAR; y < year; y++) { day += isLeap(y) ? 366 : 365; }
    for (y = EPOCH_YEAR - 1; y >= year; y--) { day -= isLeap(y) ? 366 : 365; }
    return day;
  }

  /* Days since 1970-01-01 of a Jalali date, and back. */
  function toDay(year, month, day) {
    return yearStart(year) + (month <= 7 ? (month - 1) * 31 : 186 + (month - 7) * 30) + day - 1;
  }

  function fromDay(n) {
    var year = EPOCH_YEAR + Math.floor((n - EPOCH) / 365.2422);
    while (yearStart(year) > n) { year--; }
    while (yearStart(year + 1) <= n) { year++; }
    var offset = n - yearStart(year);
    var month = offset < 186 ? Math.floor(offset / 31) + 1 : Math.floor((offset - 186) / 30) + 7;
    return { year: year, month: month, day: offset - (toDay(year, month, 1) - yearStart(year)) + 1 };
  }

  /* Column of a day in a week that starts on Saturday (1970-01-01 was a Thursday). */
  function column(n) { return (((n + 5) % 7) + 7) % 7; }

  function latin(text) {
    return String(text).replace(/[۰-۹]/g, function (c) { return c.charCodeAt(0) - 0x06f0; })
      .replace(/[٠-٩]/g, function (c) { return c.charCodeAt(0) - 0x0660; });
  }

  /* A typed date as days since 1970, or null when it is not a Jalali date. */
  function parse(text) {
    var m = /^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$/.exec(latin(text || ""));
    if (!m) { return null; }
    var year = +m[1], month = +m[2], day = +m[3];
    if (month < 1 || month > 12 || day < 1 || day > monthLength(year, month)) { return null; }
    return toDay(year, month, day);
  }

  function pad(n, width) { n = String(n); while (n.length < width) { n = "0" + n; } return n; }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined) { el.textContent = text; }
    return el;
  }

  function Picker(input) {
    var labels = JSON.parse(input.getAttribute("data-jalali-picker"));
    var rtl = getComputedStyle(input.parentNode).direction === "rtl" || document.documentElement.dir === "rtl";
    var id = "jalali-picker-" + (++counter);
    var digits = labels.digits || "0123456789";
    var write = function (text) { return String(text).replace(/[0-9]/g, function (c) { return digits.charAt(+c); }); };
    var today = parse(labels.today) || Math.floor(Date.now() / 86400000);
    var shown = null, focused = null;

    var wrap = make("span", "datepicker");
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var toggle = make("button", "datepicker-toggle");
    toggle.type = "button";
    toggle.setAttribute("aria-label", input.getAttribute("data-picker-open"));
    toggle.setAttribute("aria-haspopup", "dialog");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", id);
    toggle.appendChild(icon());
    wrap.appendChild(toggle);

    var popup = make("div", "datepicker-popup");
    popup.id = id;
    popup.hidden = true;
    popup.setAttribute("role", "dialog");
    popup.setAttribute("aria-labelledby", id + "-title");
    var head = make("div", "datepicker-head");
    var previous = make("button", "datepicker-step", rtl ? "›" : "‹");
    var next = make("button", "datepicker-step", rtl ? "‹" : "›");
    var title = make("div", "datepicker-title");
    title.id = id + "-title";
    title.setAttribute("aria-live", "polite");
    [[previous, "data-picker-previous"], [next, "data-picker-next"]].forEach(function (pair) {
      pair[0].type = "button";
      pair[0].setAttribute("aria-label", input.getAttribute(pair[1]));
    });
    head.appendChild(previous);
    head.appendChild(title);
    head.appendChild(next);
    var grid = make("table", "datepicker-grid");
    grid.setAttribute("role", "grid");
    grid.setAttribute("aria-labelledby", id + "-title");
    var names = make("tr");
    labels.days.forEach(function (short, i) {
      var th = make("th", "", short);
      th.scope = "col";
      th.setAttribute("abbr", labels.day_names[i]);
      th.title = labels.day_names[i];
      names.appendChild(th);
    });
    grid.appendChild(make("thead")).appendChild(names);
    var body = grid.appendChild(make("tbody"));
    var close = make("button", "datepicker-close button ghost small", input.getAttribute("data-picker-close"));
    close.type = "button";
    popup.appendChild(head);
    popup.appendChild(grid);
    popup.appendChild(close);
    wrap.appendChild(popup);

    function name(n) {
      var d = fromDay(n);
      return write(d.day) + " " + labels.months[d.month - 1] + " " + write(d.year);
    }

    function render(n) {
      var d = fromDay(n), first = toDay(d.year, d.month, 1), length = monthLength(d.year, d.month);
      var chosen = parse(input.value);
      shown = first;
      focused = n;
      title.textContent = labels.months[d.month - 1] + " " + write(d.year);
      body.textContent = "";
      var row = null;
      for (var cell = 0; cell < column(first) + length; cell++) {
        if (cell % 7 === 0) { row = body.appendChild(make("tr")); }
        var td = row.appendChild(make("td"));
        if (cell < column(first)) { continue; }
        var day = first + cell - column(first);
        var button = td.appendChild(make("button", "datepicker-day", write(cell - column(first) + 1)));
        button.type = "button";
        button.setAttribute("data-day", day);
        button.setAttribute("aria-label", name(day));
        button.tabIndex = day === n ? 0 : -1;
        if (day === chosen) { td.setAttribute("aria-selected", "true"); button.classList.add("chosen"); }
        if (day === today) { button.setAttribute("aria-current", "date"); }
      }
    }

    function focusDay(n) {
      render(n);
      var button = body.querySelector('[data-day="' + n + '"]');
      if (button) { button.focus(); }
    }

    function place() {
      popup.classList.remove("datepicker-end");
      var box = popup.getBoundingClientRect(), width = document.documentElement.clientWidth;
      if (box.right > width - 4 || box.left < 4) { popup.classList.add("datepicker-end"); }
    }

    function open() {
      popup.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      focusDay(parse(input.value) === null ? today : parse(input.value));
      place();
      document.addEventListener("mousedown", outside, true);
    }

    function shut(refocus) {
      if (popup.hidden) { return; }
      popup.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      document.removeEventListener("mousedown", outside, true);
      if (refocus) { toggle.focus(); }
    }

    function outside(event) { if (!wrap.contains(event.target)) { shut(false); } }

    function pick(n) {
      var d = fromDay(n);
      input.value = write(pad(d.year, 4) + "-" + pad(d.month, 2) + "-" + pad(d.day, 2));
      input.removeAttribute("aria-invalid");
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
      shut(false);
      input.focus();
    }

    function monthStep(n, step) {
      var d = fromDay(n), month = d.month + step, year = d.year;
      if (month < 1) { month = 12; year--; }
      if (month > 12) { month = 1; year++; }
      return toDay(year, month, Math.min(d.day, monthLength(year, month)));
    }

    toggle.addEventListener("click", function () { if (popup.hidden) { open(); } else { shut(true); } });
    previous.addEventListener("click", function () { render(monthStep(shown, -1)); });
    next.addEventListener("click", function () { render(monthStep(shown, 1)); });
    close.addEventListener("click", function () { shut(true); });
    /* The field sits in a <label>: a click on the popup's blank parts must not jump to the field
     * nor take the focus away; focus that leaves the picker (Tab past it) closes it. */
    popup.addEventListener("click", function (event) { if (!event.target.closest("button")) { event.preventDefault(); } });
    popup.addEventListener("mousedown", function (event) { if (!event.target.closest("button")) { event.preventDefault(); } });
    wrap.addEventListener("focusout", function () {
      setTimeout(function () { if (!wrap.contains(document.activeElement)) { shut(false); } }, 0);
    });
    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-day]");
      if (button) { pick(+button.getAttribute("data-day")); }
    });
    popup.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); shut(true); return; }
      if (!event.target.hasAttribute("data-day")) { return; }
      var forward = rtl ? "ArrowLeft" : "ArrowRight", back = rtl ? "ArrowRight" : "ArrowLeft";
      var moves = { ArrowUp: -7, ArrowDown: 7 };
      moves[forward] = 1;
      moves[back] = -1;
      var n = focused, target = null;
      if (event.key in moves) { target = n + moves[event.key]; }
      else if (event.key === "PageUp") { target = monthStep(n, -1); }
      else if (event.key === "PageDown") { target = monthStep(n, 1); }
      else if (event.key === "Home") { target = n - column(n); }
      else if (event.key === "End") { target = n + 6 - column(n); }
      if (target !== null) { event.preventDefault(); focusDay(target); }
    });
  }

  function icon() {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M6 2v2H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2h-2V2h-2v2H8V2H6zM4 8h12v8H4V8zm2 2v2h2v-2H6zm3 0v2h2v-2H9zm3 0v2h2v-2h-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function start() {
    document.querySelectorAll("input[data-jalali-picker]").forEach(function (input) {
      try { new Picker(input); } catch (e) { /* the plain field still works */ }
    });
  }

  window.basiratJalali = { toDay: toDay, fromDay: fromDay, parse: parse };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
