// The demo storefront (web/templates/): a small cart that listens to the chat widget's
// `daogou:add-to-cart` events (the grid's own buttons send the same event), the example
// questions that open the widget, and the page's events for the recommender.
(function () {
  "use strict";
  var CART_KEY = "daogou_demo_cart";
  var products = {}; // sku -> {title, price}, from /api/products/{sku}
  var userId = null; // the widget's sender id once it is known (daogou:ready)

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text; // text only, never HTML
    return node;
  }

  function yuan(price) {
    var n = Number(price);
    var whole = Math.round(n * 100) % 100 === 0;
    return "¥" + n.toLocaleString("zh-CN", {
      minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2,
    });
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(CART_KEY)) || []; } catch (e) { return []; }
  }

  function save(items) {
    try { localStorage.setItem(CART_KEY, JSON.stringify(items)); } catch (e) { /* private mode */ }
  }

  function track(type, sku) {
    if (!userId || !sku) return;
    fetch("/api/events", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: userId, sku: sku, type: type, source: "storefront" }),
      keepalive: true,
    }).catch(function () {});
  }

  function describe(sku) {
    if (products[sku]) return Promise.resolve(products[sku]);
    return fetch("/api/products/" + encodeURIComponent(sku))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (p) products[sku] = { title: p.title, price: p.price };
        return products[sku] || null;
      })
      .catch(function () { return null; });
  }

  function render() {
    var items = load();
    var count = items.reduce(function (n, item) { return n + item.qty; }, 0);
    $("cart-count").textContent = String(count);
    $("cart-count").classList.toggle("has-items", count > 0);
    $("cart-empty").hidden = items.length > 0;
    var list = $("cart-items");
    list.replaceChildren();
    var total = 0;
    items.forEach(function (item) {
      var li = el("li", "cart-item");
      li.dataset.sku = item.sku;
      var link = el("a", "cart-title", item.title || item.sku);
      link.href = item.url || "/products/" + encodeURIComponent(item.sku);
      var line = el("div", "cart-line");
      line.append(el("span", "cart-qty", "× " + item.qty));
      if (item.price !== undefined && item.price !== null) {
        line.append(el("span", "cart-price", yuan(item.price * item.qty)));
        total += item.price * item.qty;
      }
      li.append(link, line);
      list.appendChild(li);
    });
    $("cart-total").textContent = yuan(total);
  }

  var toastTimer = null;
  function toast(text) {
    var node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.hidden = true; }, 1800);
  }

  // The one way into the cart: the widget's cards and this page's buttons both send it.
  window.addEventListener("daogou:add-to-cart", function (event) {
    var detail = event.detail || {};
    if (typeof detail.sku !== "string" || !detail.sku) return;
    var items = load();
    var item = items.find(function (i) { return i.sku === detail.sku; });
    if (item) item.qty += 1;
    else items.push({ sku: detail.sku, url: detail.url || null, qty: 1 });
    save(items);
    render();
    describe(detail.sku).then(function (p) {
      if (!p) return;
      var current = load();
      current.forEach(function (i) {
        if (i.sku === detail.sku) { i.title = p.title; i.price = p.price; }
      });
      save(current);
      render();
      toast("已加入购物车：" + p.title);
    });
  });

  window.addEventListener("daogou:ready", function (event) {
    userId = event.detail && event.detail.senderId;
    var product = document.querySelector(".product[data-sku]");
    if (product) track("view", product.dataset.sku);
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button, a");
    if (!target) return;
    if (target.classList.contains("add-to-cart")) {
      var sku = target.dataset.sku;
      window.dispatchEvent(new CustomEvent("daogou:add-to-cart", {
        detail: { sku: sku, url: new URL("/products/" + encodeURIComponent(sku), location.href).href },
      }));
      track("add_to_cart", sku);
    } else if (target.classList.contains("ask") && window.DaogouWidget) {
      window.DaogouWidget.send(target.dataset.ask);
    } else if (target.classList.contains("ask-open") && window.DaogouWidget) {
      window.DaogouWidget.open();
    } else if (target.closest(".card") && target.tagName === "A") {
      track("click", target.closest(".card").dataset.sku);
    }
  });

  function openCart(open) {
    $("cart").hidden = !open;
    $("cart-button").setAttribute("aria-expanded", String(open));
  }
  $("cart-button").addEventListener("click", function () { openCart($("cart").hidden); });
  document.querySelector(".cart-close").addEventListener("click", function () { openCart(false); });
  $("cart-clear").addEventListener("click", function () { save([]); render(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") openCart(false);
  });
  window.addEventListener("storage", function (event) {
    if (event.key === CART_KEY) render(); // another tab changed the cart
  });
  render();
})();
