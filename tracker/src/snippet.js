/* The snippet a store pastes into its pages (HOST and WRITE_KEY filled in).
 * It defines a queue stub, so calls made before the tracker has loaded are
 * kept and replayed in order, and loads the tracker asynchronously. */
!(function (w, d, host, key) {
  var b = (w.basirat = w.basirat || []);
  if (b.page) return;
  "page track identify alias reset consent feedback flush search viewList clickProduct viewProduct addToCart removeFromCart viewCart checkout order anonymousId"
    .split(" ")
    .forEach(function (m) {
      b[m] = function () {
        b.push([m].concat([].slice.call(arguments)));
      };
    });
  var s = d.createElement("script");
  s.async = 1;
  s.src = host + "/t.js";
  s.dataset.writeKey = key;
  s.dataset.host = host;
  d.head.appendChild(s);
})(window, document, "HOST", "WRITE_KEY");
