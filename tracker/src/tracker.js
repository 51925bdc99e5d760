/* Basirat tracker: records page views, clicks and ecommerce events and sends
 * them in batches to a Segment-compatible collector. Configured by the
 * attributes of its own <script> tag: data-write-key, data-host,
 * data-cookieless (no persistent id until basirat.consent(true)),
 * data-auto="false" (no automatic page views), data-ecommerce (also read
 * the store's GA4 dataLayer and Product JSON-LD: e.js, loaded only then).
 *
 * Delivery: every event is stored (one key per event, so tabs never
 * overwrite each other) before it is sent, and removed only once the
 * collector accepted it. Failures are retried with exponential backoff and
 * jitter; a tab claims stored events with a lease so two tabs do not send the
 * same one, and each event carries a messageId so a retry is stored once.
 */
((w, d) => {
  const nav = navigator;
  const loc = location;
  const me = d.currentScript || d.querySelector("script[data-write-key]");
  if (!me || w.basirat?.ready) return;
  const conf = me.dataset;
  const KEY = conf.writeKey;
  // data-host is the collector's origin; by default, where this script came from.
  const BATCH = new URL("/v1/batch", conf.host || me.src).href;
  const PREFIX = "bsr_";
  const EVENT = PREFIX + "e_";
  const LEASE = 3e4;
  const now = Date.now;
  const iso = () => new Date().toISOString();
  // 128 random bits; crypto.randomUUID exists only on https pages.
  const uuid = () => [...crypto.getRandomValues(new Uint32Array(4))].map((x) => x.toString(36)).join("-");
  const TAB = uuid();
  const inflight = {};
  const log = []; // this page's messages, for e.js to tell the page's own calls

  // -- storage: localStorage when allowed, otherwise this page's memory ----
  const mem = {
    setItem(k, v) {
      this[k] = v;
    },
    removeItem(k) {
      delete this[k];
    },
  };
  let ls;
  try {
    ls = w.localStorage;
  } catch (e) {}
  const optOut = nav.doNotTrack == "1" || nav.globalPrivacyControl || "cookieless" in conf;
  let store = ls && (!optOut || ls.getItem(PREFIX + "c") == "1") ? ls : mem;
  const get = (k) => {
    try {
      return JSON.parse(store[k]);
    } catch (e) {}
  };
  const set = (k, v) => {
    try {
      v == null ? store.removeItem(k) : store.setItem(k, JSON.stringify(v));
    } catch (e) {}
  };
  const ours = (p) => Object.keys(store).filter((k) => !k.indexOf(p || PREFIX));

  let anon = get(PREFIX + "a") || uuid();
  let user = get(PREFIX + "u");
  // The store server's signature of the user id (identity verification).
  let hash = get(PREFIX + "h");
  set(PREFIX + "a", anon);

  // -- messages ---------------------------------------------------------
  let referrer = d.referrer;
  const pageContext = () => ({
    url: loc.href,
    path: loc.pathname,
    title: d.title,
    referrer,
  });

  const enqueue = (type, fields) => {
    const m = {
      type,
      messageId: uuid(),
      anonymousId: anon,
      userId: user, // left out while undefined, as userHash
      originalTimestamp: iso(),
      context: {
        page: pageContext(),
        locale: nav.language,
        library: { name: "basirat.js", version: "1" },
        userHash: hash,
      },
      ...fields,
    };
    log.push(m);
    // Bounded, as Snowplow's queue: while 100 events wait, new ones are dropped.
    if (ours(EVENT).length < 100) set(EVENT + m.messageId, { m, n: 0, r: 0, o: TAB, l: now() + 5e3 });
    // Each event schedules a flush; the first one takes every event due.
    setTimeout(flush, 500);
    return m.messageId;
  };

  // -- delivery ---------------------------------------------------------
  const key = (e) => EVENT + e.m.messageId;
  const done = (batch) =>
    batch.forEach((e) => {
      delete inflight[key(e)];
      set(key(e));
    });

  const failed = (batch) => {
    const delay = Math.min(3e4, 1e3 * 2 ** batch[0].n) * (0.5 + Math.random() / 2);
    batch.forEach((e) => {
      delete inflight[key(e)];
      e.n++;
      e.r = now() + delay;
      e.l = 0;
      if (get(key(e))) set(key(e), e);
    });
    setTimeout(flush, delay + 50);
  };

  const post = (batch, unload) => {
    if (!batch.length) return;
    const body = JSON.stringify({ batch: batch.map((e) => e.m), sentAt: iso(), writeKey: KEY });
    // A string body goes as text/plain: a "simple" request, no CORS preflight.
    // Leaving the page: a beacon, or if the browser refuses one, keepalive.
    if (unload && nav.sendBeacon?.(BATCH, body)) return done(batch);
    fetch(BATCH, { method: "POST", body, keepalive: body.length < 6e4 }).then(
      (r) => (/^(5|429|408)/.test(r.status) ? failed(batch) : done(batch)),
      () => failed(batch)
    );
  };

  // Claims what is due (own events, or another tab's whose lease ran out),
  // then sends what is still ours a moment later: a tab that claimed the same
  // event meanwhile wins, so two tabs rarely send one event twice. A new page
  // and a network back online retry at once, whatever the backoff said.
  const flush = (unload, retry) => {
    if (nav.onLine === false) return;
    const t = now();
    const batch = [];
    let wait = 0;
    ours(EVENT).forEach((k) => {
      const e = get(k);
      if (!e || inflight[key(e)] || (e.r > t && !retry) || (unload && e.n) || (e.o != TAB && e.l > t) || batch[49]) return;
      if (e.o != TAB) wait = 300;
      e.o = TAB;
      e.l = t + LEASE;
      set(k, e);
      batch.push(e);
      inflight[key(e)] = 1;
    });
    // (an event another tab took over leaves this tab's in-flight set)
    const go = () =>
      post(
        batch.filter((e) => get(key(e))?.o == TAB || !delete inflight[key(e)]),
        unload
      );
    unload ? go() : setTimeout(go, wait * Math.random());
    if (batch[49]) setTimeout(flush, 500);
  };

  // -- public API ---------------------------------------------------------
  const api = {
    page: (name, properties) => enqueue("page", { name: name || d.title, properties: properties || {} }),
    track: (event, properties) => enqueue("track", { event, properties: properties || {} }),
    // options.userHash: what the store's server signed the id with (see the README's security section).
    identify: (userId, traits, options) => {
      if (userId) {
        set(PREFIX + "h", (hash = options?.userHash));
        set(PREFIX + "u", (user = "" + userId));
      }
      return enqueue("identify", { traits: traits || {} });
    },
    alias: (userId, previousId) => enqueue("alias", { userId, previousId: previousId || user || anon }),
    reset: () => {
      set(PREFIX + "u", (user = hash = set(PREFIX + "h"))); // set() returns undefined: both forgotten
      set(PREFIX + "a", (anon = uuid()));
    },
    // Granted: what this page holds moves to localStorage; withdrawn: every
    // key of ours leaves it and the page goes on from memory.
    consent: (granted) => {
      const from = store;
      const keys = ours();
      store = granted && ls ? ls : mem;
      if (from != store)
        for (const k of keys) {
          store.setItem(k, from[k]);
          from.removeItem(k);
        }
      set(PREFIX + "c", granted ? 1 : null);
    },
    feedback: (score, comment, properties) =>
      api.track("Feedback Submitted", { score, comment: comment || "", ...properties }),
    flush,
    anonymousId: () => anon,
    log,
    ready: 1,
  };
  // Segment Ecommerce v2 events, one helper each: basirat.viewProduct({...}).
  const commerce = {
    search: "Products Searched",
    viewList: "Product List Viewed",
    clickProduct: "Product Clicked",
    viewProduct: "Product Viewed",
    addToCart: "Product Added",
    removeFromCart: "Product Removed",
    viewCart: "Cart Viewed",
    checkout: "Checkout Started",
    order: "Order Completed",
  };
  for (const k in commerce) api[k] = (properties) => api.track(commerce[k], properties);

  // -- automatic: page views, SPA routes, engagement ----------------------
  // Engaged time is the time the page was visible; scroll depth the lowest
  // point seen, in percent. Both are sent when the page is left or hidden.
  let path = loc.href;
  let depth = 0;
  let engaged = 0;
  let since = now();
  const engagement = () => {
    engaged += now() - since;
    since = now();
    if (engaged > 999 || depth)
      api.track("Page Engagement", {
        url: path,
        scroll_depth: depth,
        engaged_seconds: Math.round(engaged / 1e3),
      });
    engaged = depth = 0;
  };
  const route = () =>
    setTimeout(() => {
      if (loc.href == path) return;
      engagement();
      referrer = path;
      path = loc.href;
      api.page();
    }, 50);
  for (const k of ["pushState", "replaceState"]) {
    const original = history[k];
    history[k] = function () {
      const r = original.apply(this, arguments);
      route();
      return r;
    };
  }
  const on = (target, type, f) => target.addEventListener(type, f, { passive: true, capture: true });
  on(w, "popstate", route);
  on(w, "scroll", () => {
    depth = Math.max(depth, Math.round((100 * (scrollY + innerHeight)) / d.documentElement.scrollHeight));
  });
  on(w, "online", () => flush(0, 1));
  const hide = () => {
    engagement();
    flush(1);
  };
  on(w, "pagehide", hide);
  on(d, "visibilitychange", () => (d.hidden ? hide() : ((since = now()), flush())));

  // -- automatic: clicks --------------------------------------------------
  const attr = (el, name) => {
    name = "data-basirat-" + name;
    return el.closest(`[${name}]`)?.getAttribute(name);
  };
  on(d, "click", (ev) => {
    const el = ev.target;
    if (!el.closest) return;
    const named = el.closest("[data-basirat-event]");
    if (named) api.track(named.getAttribute("data-basirat-event"));
    const item = el.closest("[data-basirat-item]");
    if (item && attr(item, "rec-id"))
      api.track("Recommendation Clicked", {
        recommendation_id: attr(item, "rec-id"),
        slot: attr(item, "slot"),
        item_id: item.getAttribute("data-basirat-item"),
      });
    const a = el.closest("a[href]");
    if (!a) return;
    const url = new URL(a.href, loc.href);
    if (a.hasAttribute("download") || /\.(pdf|zip|csv|xlsx?|docx?|mp[34]|dmg|exe|gz)$/i.test(url.pathname))
      api.track("File Downloaded", { url: url.href });
    else if (url.host != loc.host && /^http/.test(url.protocol)) api.track("Outbound Link Clicked", { url: url.href });
  });

  // -- automatic: recommendation impressions, once per rendered element ----
  const scan = () => {
    const shown = {};
    for (const item of d.querySelectorAll("[data-basirat-item]")) {
      const id = attr(item, "rec-id");
      if (!id || item.bsrShown) continue;
      item.bsrShown = 1;
      const slot = attr(item, "slot");
      const k = id + " " + slot;
      (shown[k] = shown[k] || { recommendation_id: id, slot, item_ids: [] }).item_ids.push(item.getAttribute("data-basirat-item"));
    }
    for (const k in shown) api.track("Recommendation Shown", shown[k]);
  };
  new MutationObserver(scan).observe(d.documentElement, { childList: true, subtree: true });

  // -- start: the automatic page view, then calls queued by the snippet ----
  const queued = w.basirat || [];
  w.basirat = api;
  api.push = ([method, ...args]) => api[method]?.(...args);
  if (conf.auto != "false") api.page();
  queued.forEach(api.push);
  queued.push = api.push;
  if ("ecommerce" in conf) d.head.append(Object.assign(d.createElement("script"), { src: new URL("/e.js", BATCH) }));
  scan();
  flush(0, 1);
})(window, document);
