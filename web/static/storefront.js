// Storefront page: product grid from /api/products and a simple chat box (REST via /api/chat).
(function () {
  "use strict";
  const senderKey = "daogou_user_id";
  let sender = localStorage.getItem(senderKey);
  if (!sender) {
    sender = "web-" + Math.random().toString(36).slice(2, 12);
    localStorage.setItem(senderKey, sender);
  }
  const log = document.getElementById("log");
  const input = document.getElementById("chat-input");
  const yuan = (p) => "¥" + Number(p).toLocaleString("zh-CN", { maximumFractionDigits: 2 });

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;  // textContent: never inject HTML
    return node;
  }

  function productCard(p, cls) {
    const card = el("div", cls);
    card.appendChild(el("div", "title", p.title));
    card.appendChild(el("div", "price", yuan(p.price)));
    card.appendChild(el("div", "meta", `${p.brand} · ${p.category} · 评分 ${p.rating} · ${p.stock > 0 ? "有货" : "缺货"}`));
    return card;
  }

  function addMessage(who, text) {
    const node = el("div", "msg " + who, text);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
  }

  function render(reply) {
    if (reply.text) addMessage("bot", reply.text);
    if (reply.custom && reply.custom.type === "products") {
      const box = el("div", "products");
      reply.custom.items.forEach((p) => box.appendChild(productCard(p, "product")));
      log.appendChild(box);
    }
    if (reply.buttons && reply.buttons.length) {
      const box = el("div", "quick");
      reply.buttons.forEach((b) => {
        const button = el("button", "", b.title);
        button.type = "button";
        button.onclick = () => send(b.payload || b.title, b.title);
        box.appendChild(button);
      });
      log.appendChild(box);
    }
    log.scrollTop = log.scrollHeight;
  }

  async function send(message, shown) {
    addMessage("user", shown || message);
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message }),
      });
      const data = await res.json();
      if (!res.ok) { addMessage("bot", (data.error && data.error.message) || "出错了，请稍后再试"); return; }
      if (!data.length) addMessage("bot", "抱歉，我没有听明白，可以换个说法吗？");
      data.forEach(render);
    } catch (e) {
      addMessage("bot", "网络好像出了点问题，请稍后再试");
    }
  }

  let composing = false;  // Chinese IME: Enter that picks a candidate must not send.
  input.addEventListener("compositionstart", () => { composing = true; });
  input.addEventListener("compositionend", () => { composing = false; });
  document.getElementById("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (composing || e.isComposing) return;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  async function loadProducts() {
    const params = new URLSearchParams({ limit: "40" });
    const category = document.getElementById("category").value;
    const q = document.getElementById("q").value.trim();
    if (category) params.set("category", category);
    if (q) params.set("q", q);
    const res = await fetch("/api/products?" + params);
    const data = await res.json();
    const grid = document.getElementById("grid");
    grid.replaceChildren(...(data.items || []).map((p) => productCard(p, "card")));
  }

  ["手机", "笔记本电脑", "平板电脑", "耳机", "智能手表", "手机配件", "跑步鞋", "运动服饰", "护肤品", "彩妆", "小家电", "零食饮料"]
    .forEach((c) => { const o = el("option", "", c); o.value = c; document.getElementById("category").appendChild(o); });
  document.getElementById("category").onchange = loadProducts;
  document.getElementById("search").onclick = loadProducts;
  addMessage("bot", "您好，我是导购助手，想买点什么？可以直接问我价格、参数，或者让我帮您挑。");
  loadProducts();
})();
