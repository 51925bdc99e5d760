/* Basirat ecommerce reader, loaded by the tracker when its tag has data-ecommerce.
 * It turns what the store already publishes into Segment Ecommerce v2 events:
 * - GA4 ecommerce events in window.dataLayer (GTM's dataLayer.push({event,
 *   ecommerce}) and gtag('event', name, params)), including those pushed
 *   before it loaded, and the older Universal Analytics enhanced-ecommerce
 *   shape;
 * - schema.org Product JSON-LD, as a Product Viewed, when nothing else on the
 *   page said which product it shows.
 * A derived event waits a moment and is dropped when the page tracked the same
 * event itself (an explicit basirat.viewProduct(...) wins), so nothing is
 * counted twice.
 */
((w, d) => {
  const b = w.basirat;
  if (!b?.ready || b.ecommerce) return;
  b.ecommerce = 1;
  const mine = {};
  const pending = [];
  const num = (v) => (v == null || v === "" || isNaN(v) ? undefined : +v);
  const clean = (o) => {
    for (const k in o) if (o[k] == null || o[k] === "") delete o[k];
    return o;
  };
  const here = () => location.href;
  // A derived event is dropped when this page tracked that event itself (the
  // page's own call wins); a fallback, when the page tracked it in any way.
  const send = () => {
    for (const [name, props, url, fallback] of pending.splice(0).sort((x, y) => !!x[3] - !!y[3]))
      if (
        url == here() &&
        !b.log.some((m) => m.event == name && m.context.page.url == url && (fallback || !mine[m.messageId]))
      )
        mine[b.track(name, props)] = 1;
  };
  const later = (name, props, fallback) => {
    pending.push([name, props, here(), fallback]);
    setTimeout(send, 800);
  };

  const product = (i) =>
    clean({
      product_id: i.item_id ?? i.id,
      name: i.item_name ?? i.name,
      brand: i.item_brand ?? i.brand,
      category: [i.item_category ?? i.category, i.item_category2, i.item_category3]
        .filter((c) => c)
        .join("/"),
      variant: i.item_variant ?? i.variant,
      price: num(i.price),
      quantity: num(i.quantity),
      coupon: i.coupon,
      position: num(i.index ?? i.position),
    });
  // GA4 event name -> Segment event; a trailing "*" sends one event per item.
  const GA4 = {
    view_item: "Product Viewed*",
    select_item: "Product Clicked*",
    add_to_cart: "Product Added*",
    remove_from_cart: "Product Removed*",
    view_item_list: "Product List Viewed",
    view_cart: "Cart Viewed",
    begin_checkout: "Checkout Started",
    add_shipping_info: "Checkout Step Completed",
    add_payment_info: "Payment Info Entered",
    purchase: "Order Completed",
    refund: "Order Refunded",
  };
  const ga4 = (event, e) => {
    let name = GA4[event];
    if (!name || !e) return;
    const items = e.items || [];
    const value = num(e.value);
    if (name.endsWith("*")) {
      name = name.slice(0, -1);
      return items.forEach((i) => later(name, clean({ ...product(i), currency: e.currency })));
    }
    const extra = (num(e.tax) || 0) + (num(e.shipping) || 0);
    later(
      name,
      clean({
        order_id: e.transaction_id,
        list_id: e.item_list_id,
        category: e.item_list_name,
        value: name == "Checkout Started" ? value : undefined,
        revenue: name == "Order Completed" ? value : undefined,
        total: value == null ? undefined : name == "Order Completed" ? value + extra : value,
        tax: num(e.tax),
        shipping: num(e.shipping),
        coupon: e.coupon,
        currency: e.currency,
        shipping_method: e.shipping_tier,
        payment_method: e.payment_type,
        products: items.map(product),
      })
    );
  };
  // Universal Analytics enhanced ecommerce, read as the GA4 event it became.
  const UA = {
    detail: "view_item",
    click: "select_item",
    add: "add_to_cart",
    remove: "remove_from_cart",
    checkout: "begin_checkout",
    purchase: "purchase",
    refund: "refund",
  };
  const ua = (ec) => {
    let hit = ec.impressions;
    if (hit) ga4("view_item_list", { items: hit, currency: ec.currencyCode });
    for (const k in UA)
      if (ec[k]) {
        hit = 1;
        const a = ec[k].actionField || {};
        const revenue = num(a.revenue);
        ga4(UA[k], {
          items: ec[k].products,
          currency: ec.currencyCode,
          transaction_id: a.id,
          coupon: a.coupon,
          tax: a.tax,
          shipping: a.shipping,
          // UA's revenue includes tax and shipping; GA4's value does not.
          value: revenue == null ? undefined : revenue - (num(a.tax) || 0) - (num(a.shipping) || 0),
          item_list_name: a.list,
        });
      }
    return hit;
  };
  const read = (entry) => {
    if (!entry) return;
    if (entry[0] == "event") return ga4(entry[1], entry[2]);
    const ec = entry.ecommerce;
    if (ec) ec.items ? ga4(entry.event, ec) : ua(ec) || ga4(entry.event, ec);
  };
  const layer = (w.dataLayer = w.dataLayer || []);
  layer.forEach(read);
  const push = layer.push;
  layer.push = function () {
    [].forEach.call(arguments, read);
    return push.apply(this, arguments);
  };

  // schema.org Product JSON-LD: a Product Viewed only if the page said nothing else.
  const jsonld = () => {
    const found = [];
    const walk = (o) => {
      if (!o || typeof o != "object") return;
      if (Array.isArray(o)) return o.forEach(walk);
      if ([].concat(o["@type"]).includes("Product")) found.push(o);
      walk(o["@graph"]);
    };
    for (const s of d.querySelectorAll('script[type="application/ld+json"]'))
      try {
        walk(JSON.parse(s.textContent));
      } catch (e) {}
    const p = found[0];
    if (!p) return;
    const offer = [].concat(p.offers || [])[0] || {};
    const id = p.sku ?? p.productID;
    later(
      "Product Viewed",
      clean({
        product_id: id && "" + id,
        name: p.name,
        brand: p.brand?.name ?? p.brand,
        category: p.category?.name ?? p.category,
        price: num(offer.price ?? offer.lowPrice),
        currency: offer.priceCurrency,
      }),
      1
    );
  };
  d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", jsonld) : jsonld();
  // Leaving the page: what waits is tracked now (the tracker keeps it until sent).
  w.addEventListener("pagehide", send);
})(window, document);
