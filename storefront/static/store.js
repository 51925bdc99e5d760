/* The demo store's own script: the snippet's queue stub (so calls made before
 * /t.js has loaded are kept), the tracker calls each page names in
 * body[data-track], add-to-basket events, the recommendation slots and the
 * lookbook's client-side navigation. No inline script anywhere (CSP). */
(function () {
  "use strict";
  var b = (window.basirat = window.basirat || []);
  if (!b.page) {
    "page track identify alias reset consent feedback flush search viewList clickProduct viewProduct addToCart removeFromCart viewCart checkout order anonymousId"
      .split(" ")
      .forEach(function (m) {
        b[m] =
          b[m] ||
          function () {
            b.push([m].concat([].slice.call(arguments)));
          };
      });
  }
  // Prices as the page's language writes them (Persian digits in fa).
  var PRICE = new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency: "GBP" });
  var call = function (method) {
    var api = window.basirat;
    api[method].apply(api, [].slice.call(arguments, 1));
  };
  var body = document.body;

  // Calls the page asked for: a product view, a cart view, an order...
  JSON.parse(body.dataset.track || "[]").forEach(function (c) {
    call.apply(null, c);
  });

  // Add to basket: the event is queued, then the form navigates; the tracker
  // sends it as the page is left.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset.addToCart) {
      var product = JSON.parse(form.dataset.addToCart);
      product.quantity = parseInt(form.elements.quantity.value, 10) || 1;
      call("addToCart", product);
    } else if (form.dataset.cartUpdate) {
      var line = JSON.parse(form.dataset.cartUpdate);
      var wanted = ev.submitter && ev.submitter.value === "0" ? 0 : parseInt(form.elements.quantity.value, 10) || 0;
      var change = wanted - line.quantity;
      if (change) {
        line.quantity = Math.abs(change);
        call(change > 0 ? "addToCart" : "removeFromCart", line);
      }
    }
  });

  // -- recommendation slots ------------------------------------------------
  var whenTracker = function (f) {
    if (window.basirat.ready) return f();
    var tag = document.querySelector("script[data-write-key]");
    if (tag) tag.addEventListener("load", f);
  };

  var card = function (p) {
    var a = document.createElement("a");
    a.className = "card rec";
    a.href = p.url;
    a.setAttribute("data-basirat-item", p.id);
    var thumb = document.createElement("span");
    thumb.className = "thumb cat-" + p.category;
    var letter = document.createElement("span");
    letter.textContent = p.name.charAt(0);
    thumb.appendChild(letter);
    var name = document.createElement("h3");
    name.textContent = p.name;
    var price = document.createElement("p");
    price.className = "meta price";
    price.textContent = PRICE.format(p.price);
    a.append(thumb, name, price);
    return a;
  };

  var fill = function (slot, answer) {
    var ids = answer.items.map(function (i) {
      return i.itemId;
    });
    if (!ids.length) return;
    return fetch(body.dataset.products + "?ids=" + encodeURIComponent(ids.join(",")))
      .then(function (r) {
        return r.json();
      })
      .then(function (products) {
        if (!products.length) return;
        var grid = slot.querySelector(".grid");
        grid.setAttribute("data-basirat-rec-id", answer.recommendationId || "");
        grid.setAttribute("data-basirat-slot", slot.dataset.recSlot);
        grid.replaceChildren.apply(grid, products.map(card));
        slot.hidden = false;
      });
  };

  var recommend = function (slot) {
    var key = body.dataset.publicKey;
    if (!key) return;
    var q = new URLSearchParams({ key: key, context: slot.dataset.recContext, limit: "8" });
    var anon = window.basirat.anonymousId && window.basirat.anonymousId();
    if (anon) q.set("anonymousId", anon);
    // The customer's own list needs the id signed by the store's server (identity verification).
    if (body.dataset.userId) q.set("userId", body.dataset.userId);
    if (body.dataset.userHash) q.set("userHash", body.dataset.userHash);
    if (slot.dataset.recItem) q.set("itemId", slot.dataset.recItem);
    // Until the endpoint exists (or when it fails) the slot stays hidden.
    fetch(body.dataset.api + "/v1/recommendations?" + q)
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (answer) {
        return answer && answer.items && fill(slot, answer);
      })
      .catch(function () {});
  };
  var slots = document.querySelectorAll("[data-rec-slot]");
  if (slots.length)
    whenTracker(function () {
      slots.forEach(recommend);
    });

  // -- lookbook: a single-page section moved with pushState ---------------------
  var root = document.querySelector("[data-spa-root]");
  if (!root) return;
  var show = function () {
    var key = location.pathname.slice(root.dataset.spaRoot.length).replace(/\/$/, "");
    root.querySelectorAll("[data-chapter]").forEach(function (chapter) {
      var on = chapter.dataset.chapter === key;
      chapter.hidden = !on;
      if (on) document.title = chapter.dataset.title;
    });
  };
  root.addEventListener("click", function (ev) {
    var link = ev.target.closest("a[data-spa]");
    if (!link || ev.metaKey || ev.ctrlKey) return;
    ev.preventDefault();
    history.pushState({}, "", link.href);
    show();
  });
  window.addEventListener("popstate", show);
})();
