/*!
 * Daogou (导购) chat widget: one script tag puts the shopping assistant on any page.
 *
 *   <script src="https://shop.example.com/static/widget/widget.js" defer
 *           data-rasa-url="https://bot.example.com" data-name="导购助手"></script>
 *
 * Configuration: the data- attributes of that one script tag (README of web/static/widget/),
 * each with the default written in DEFAULTS below. The storefront renders the tag from one
 * place (web/routes/storefront.py: WIDGET and widget_config()).
 *
 * The conversation runs over Rasa's Socket.IO channel (bot/channels/socketio.py) with
 * socket.io-client 4 from web/static/vendor/ (no CDN). The shopper's identity comes from the
 * web app: GET /api/widget/session -> {sender_id, token, expires_in}; the token goes to Rasa as
 * the Socket.IO `auth` ({token}) and sender_id is the session_id of `session_request` and of every
 * message. In development, when that endpoint answers 404, a random id kept in localStorage stands
 * in (no token). GET /api/widget/history brings the conversation back after a reload.
 *
 * After a staff member hands the conversation back ({"type": "handoff", "state": "ended",
 * "handoff_id"}), a small card asks for a 1-5 star rating (POST /api/widget/handoff-rating), once
 * per handoff: the history's `rating_due` and a localStorage list of rated handoffs keep a reload
 * from asking again. A request nobody took never ends that way, so it is never rated.
 *
 * Consent (GET/POST /api/widget/consent): until the shopper answers, a short notice above the
 * input asks whether their browsing and chat history here may personalise recommendations
 * (「同意」/「暂不」); the answer is kept by the web app, so no other page or device asks again,
 * and the 「个性化推荐」 switch below the input changes it later. The chat works either way.
 *
 * Everything a message, product or staff member says is put on the page as text (textContent),
 * never as HTML.
 */
(function () {
  "use strict";

  if (window.DaogouWidget && window.DaogouWidget.version) return; // loaded twice

  var script =
    document.currentScript || document.querySelector('script[src*="widget/widget.js"]');
  var scriptUrl = new URL(script.getAttribute("src"), location.href);
  var data = script.dataset;

  var DEFAULTS = {
    name: "导购助手",
    subtitle: "在线 · 帮您挑选、比价、查参数",
    greeting: "您好，我是导购助手。想买点什么？可以直接问我价格、参数，或者让我帮您挑。",
    placeholder: "输入问题，例如：三千以内的华为手机",
    primaryColor: "#ef4f2b",
    position: "right", // or "left"
    rasaUrl: location.protocol + "//" + location.hostname + ":5005",
    socketPath: "/socket.io",
    apiUrl: scriptUrl.origin, // where /api/widget/session, /api/widget/history, /api/events live
    productUrl: "/products/{sku}",
    productSku: "", // the product this page shows: sent with every message as metadata
    metadataKey: "metadata", // the channel's `metadata_key` (bot/credentials.yml)
    open: "", // "true": open the panel on load
    privacyUrl: "", // the shop's privacy text: linked from the consent notice when set
  };
  var config = {};
  Object.keys(DEFAULTS).forEach(function (key) {
    var value = data[key];
    config[key] = value === undefined || value === "" ? DEFAULTS[key] : value;
  });
  config.apiUrl = String(config.apiUrl).replace(/\/+$/, "");
  config.rasaUrl = String(config.rasaUrl).replace(/\/+$/, "");
  config.position = config.position === "left" ? "left" : "right";

  var SENDER_KEY = "daogou_sender_id"; // development fallback id (no /api/widget/session)
  var OPEN_KEY = "daogou_widget_open";
  var TALKED_KEY = "daogou_widget_talked"; // this tab has a conversation: connect on load
  var RATED_KEY = "daogou_rated_handoffs"; // handoffs this browser rated: never asked again
  var TYPING_TIMEOUT_MS = 60000;
  var PHONE = window.matchMedia("(max-width: 480px)");
  var SVG_NS = "http://www.w3.org/2000/svg";
  // Placeholder colours per leaf category (no product image yet): stable, readable pairs.
  var CATEGORY_HUES = {
    手机: 215, 笔记本电脑: 230, 平板电脑: 200, 耳机: 265, 智能手表: 180, 手机配件: 245,
    跑步鞋: 25, 运动服饰: 140, 护肤品: 330, 彩妆: 350, 小家电: 40, 零食饮料: 10,
  };

  // -- small DOM helpers: text only --------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function icon(paths, cls) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    if (cls) svg.setAttribute("class", cls);
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICON_CHAT = [
    "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6A.5.5 0 0 1 5 19.2V16h-.5A.5.5 0 0 1 4 15.5z",
  ];
  var ICON_CLOSE = ["M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"];
  var ICON_SEND = ["M3.4 20.4 21 12 3.4 3.6 3.4 10.1 15 12 3.4 13.9z"];
  var ICON_PREV = ["M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z"];
  var ICON_NEXT = ["M8.6 5.4 10 4l8 8-8 8-1.4-1.4 6.6-6.6z"];

  function yuan(price) {
    // The exact catalog price: whole yuan without decimals, otherwise two (¥2,999 / ¥89.90).
    var n = Number(price);
    if (!isFinite(n)) return "";
    var whole = Math.round(n * 100) % 100 === 0;
    return "¥" + n.toLocaleString("zh-CN", {
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: whole ? 0 : 2,
    });
  }

  function stockText(stock) {
    var n = Number(stock);
    if (!(n > 0)) return "暂时缺货";
    if (n < 10) return "仅剩 " + n + " 件";
    return "有货";
  }

  function safeUrl(value) {
    // Images and links from messages: http(s) or same-site paths only (no javascript:, data:).
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function cardImage(value) {
    // The shop's uploads (/media/...) live on the web app, which may not be the host page's
    // origin; a card shows their 320 px thumbnail. Other URLs (an import's) as they are.
    if (typeof value === "string" && value.indexOf("/media/") === 0) {
      return safeUrl(config.apiUrl + value.replace(/\.webp$/, ".thumb.webp"));
    }
    return safeUrl(value);
  }

  function productUrl(sku) {
    return new URL(config.productUrl.replace("{sku}", encodeURIComponent(sku)), location.href)
      .href;
  }

  function api(path) {
    return config.apiUrl + path;
  }

  var sameOriginApi = config.apiUrl === location.origin;

  // -- identity ------------------------------------------------------------------------------
  var session = null; // {senderId, token, expiresAt, signed}

  function randomId() {
    var bytes = new Uint8Array(8);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function fallbackSession() {
    var id = null;
    try {
      id = localStorage.getItem(SENDER_KEY);
      if (!id) {
        id = randomId();
        localStorage.setItem(SENDER_KEY, id);
      }
    } catch (e) {
      id = id || randomId(); // storage blocked: this page view only
    }
    return { senderId: id, token: null, expiresAt: Infinity, signed: false };
  }

  var sessionRequest = null; // the one request in flight: two at once would make two shoppers

  function getSession(force) {
    if (!force && session && session.expiresAt - Date.now() > 30000) {
      return Promise.resolve(session);
    }
    if (sessionRequest) return sessionRequest;
    sessionRequest = fetch(api("/api/widget/session"), {
      credentials: sameOriginApi ? "same-origin" : "include",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (response.status === 404) {
        // Development: the signed identity is not served here (no token, a local id).
        return fallbackSession();
      }
      if (!response.ok) throw new Error("session " + response.status);
      return response.json().then(function (body) {
        var expiresIn = Number(body.expires_in) || 3600;
        return {
          senderId: String(body.sender_id),
          token: body.token || null,
          expiresAt: Date.now() + expiresIn * 1000,
          signed: true,
        };
      });
    }).then(function (next) {
      sessionRequest = null;
      if (session && session.senderId !== next.senderId) {
        // A new identity (the old one expired): a new conversation.
        clearQuickReplies();
        log.replaceChildren();
        greet();
        if (started) loadConsent(); // the new shopper has answered nothing yet
      }
      session = next;
      announce();
      return session;
    }, function (error) {
      sessionRequest = null;
      throw error;
    });
    return sessionRequest;
  }

  var announced = false;
  function announce() {
    // The page learns the shopper's id once (the storefront's own events use it).
    if (announced || !session) return;
    announced = true;
    window.dispatchEvent(new CustomEvent("daogou:ready", { detail: { senderId: session.senderId } }));
  }

  // -- the shadow root and its parts -----------------------------------------------------------
  var host = el("div");
  host.id = "daogou-widget";
  var shadow = host.attachShadow({ mode: "open" });
  var style = el("link");
  style.rel = "stylesheet";
  style.href = new URL("widget.css", scriptUrl).href;
  shadow.appendChild(style);

  var root = el("div", "dg-root dg-" + config.position + " dg-loading");
  root.style.setProperty("--dg-primary", config.primaryColor);
  style.addEventListener("load", function () { root.classList.remove("dg-loading"); });
  style.addEventListener("error", function () { root.classList.remove("dg-loading"); });
  shadow.appendChild(root);

  var bubble = el("button", "dg-bubble");
  bubble.type = "button";
  bubble.setAttribute("aria-label", "打开" + config.name);
  bubble.appendChild(icon(ICON_CHAT, "dg-bubble-icon"));
  bubble.appendChild(el("span", "dg-bubble-label", "问" + config.name.replace(/助手$/, "")));
  var unread = el("span", "dg-unread");
  unread.hidden = true;
  bubble.appendChild(unread);

  var panel = el("section", "dg-panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", config.name);
  panel.hidden = true;

  var header = el("header", "dg-header");
  var avatar = el("div", "dg-avatar", config.name.charAt(0));
  var titles = el("div", "dg-titles");
  var title = el("div", "dg-title", config.name);
  var subtitle = el("div", "dg-subtitle", config.subtitle);
  titles.append(title, subtitle);
  var closeButton = el("button", "dg-close");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "关闭");
  closeButton.appendChild(icon(ICON_CLOSE));
  header.append(avatar, titles, closeButton);

  var status = el("div", "dg-status", "重新连接中…");
  status.setAttribute("role", "status");
  status.hidden = true;
  var banner = el("div", "dg-banner", "人工客服已接入");
  banner.setAttribute("role", "status");
  banner.hidden = true;

  var log = el("div", "dg-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var typing = el("div", "dg-typing");
  typing.setAttribute("aria-label", config.name + "正在输入");
  typing.append(el("span"), el("span"), el("span"));
  typing.hidden = true;
  var scroller = el("div", "dg-scroller");
  scroller.append(log, typing);

  // The consent notice: above the input, never in the way of the chat.
  var consentBox = el("div", "dg-consent");
  consentBox.setAttribute("role", "region");
  consentBox.setAttribute("aria-label", "个性化推荐说明");
  consentBox.hidden = true;
  var consentText = el("p", "dg-consent-text",
    "想让推荐更合您的心意吗？我们会参考您在本店的浏览和聊天记录，为您个性化推荐商品。" +
    "选择「暂不」也能正常聊天，只显示通用推荐；之后可随时在下方「个性化推荐」开关更改。");
  var privacyHref = safeUrl(config.privacyUrl);
  if (privacyHref) {
    var privacyLink = el("a", "dg-consent-link", "隐私说明");
    privacyLink.href = privacyHref;
    privacyLink.target = "_blank";
    privacyLink.rel = "noopener";
    consentText.append(" ", privacyLink);
  }
  var consentYes = el("button", "dg-consent-yes", "同意");
  var consentNo = el("button", "dg-consent-no", "暂不");
  consentYes.type = consentNo.type = "button";
  var consentActions = el("div", "dg-consent-actions");
  consentActions.append(consentNo, consentYes);
  consentBox.append(consentText, consentActions);

  var form = el("form", "dg-composer");
  var input = el("textarea", "dg-input");
  input.rows = 1;
  input.maxLength = 500;
  input.placeholder = config.placeholder;
  input.setAttribute("enterkeyhint", "send");
  input.setAttribute("aria-label", "输入消息");
  var sendButton = el("button", "dg-send");
  sendButton.type = "submit";
  sendButton.setAttribute("aria-label", "发送");
  sendButton.appendChild(icon(ICON_SEND));
  form.append(input, sendButton);

  // The shopper's standing choice, changeable at any time (shown once the web app answers).
  var footer = el("div", "dg-footer");
  footer.hidden = true;
  var prefLabel = el("label", "dg-pref");
  var prefSwitch = el("input", "dg-pref-switch");
  prefSwitch.type = "checkbox";
  prefSwitch.setAttribute("role", "switch");
  prefLabel.append(prefSwitch, el("span", "", "个性化推荐"));
  footer.appendChild(prefLabel);

  panel.append(header, status, banner, scroller, consentBox, form, footer);
  root.append(panel, bubble);

  // -- messages ------------------------------------------------------------------------------
  var staff = false; // a staff member talks (between handoff "started" and "ended")
  var unreadCount = 0;
  var typingTimer = null;

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  var suggestions = null; // the quick replies on show: they stay below the turn's last message

  function append(node) {
    if (suggestions && suggestions.parentNode === log && node !== suggestions) {
      log.insertBefore(node, suggestions); // the cards come after the text that has the buttons
    } else {
      log.appendChild(node);
    }
    scrollToEnd();
    return node;
  }

  function clearQuickReplies() {
    if (suggestions) suggestions.remove();
    suggestions = null;
  }

  function addUser(text) {
    var row = el("div", "dg-row dg-user");
    row.appendChild(el("div", "dg-msg", text));
    return append(row);
  }

  function addBot(text, fromStaff) {
    var row = el("div", "dg-row dg-bot" + (fromStaff ? " dg-staff" : ""));
    if (fromStaff) row.appendChild(el("div", "dg-who", "人工客服"));
    row.appendChild(el("div", "dg-msg", text));
    return append(row);
  }

  function addNote(text) {
    return append(el("div", "dg-note", text));
  }

  function setStaff(on) {
    if (staff === on) return;
    staff = on;
    clearQuickReplies(); // the bot's suggestions do not answer a staff member
    banner.hidden = !on;
    root.classList.toggle("dg-with-staff", on);
    subtitle.textContent = on ? "人工客服为您服务中" : config.subtitle;
    addNote(on ? "人工客服已接入，正在为您服务" : "人工客服已结束服务，导购助手继续为您服务");
  }

  function quickReplies(buttons) {
    clearQuickReplies(); // only the latest suggestions
    var row = el("div", "dg-quick");
    buttons.forEach(function (b) {
      if (!b || (!b.title && !b.payload)) return;
      var label = String(b.title || b.payload);
      var chip = el("button", "dg-chip", label);
      chip.type = "button";
      chip.addEventListener("click", function () { send(String(b.payload || label), label); });
      row.appendChild(chip);
    });
    if (!row.childElementCount) return null;
    suggestions = append(row);
    return row;
  }

  function placeholder(p) {
    var box = el("div", "dg-ph");
    var hue = CATEGORY_HUES[p.category];
    if (hue === undefined) hue = 220;
    box.style.setProperty("--dg-hue", String(hue));
    box.appendChild(el("span", "dg-ph-brand", p.brand || ""));
    box.appendChild(el("span", "dg-ph-cat", p.category || "商品"));
    return box;
  }

  function productCard(p) {
    var card = el("article", "dg-card");
    card.dataset.sku = p.sku;
    card.dataset.price = String(p.price);
    card.dataset.stock = String(p.stock);
    var media = el("div", "dg-card-media");
    var src = cardImage(p.image);
    if (src) {
      var img = el("img");
      img.alt = String(p.title || "");
      img.loading = "lazy";
      img.src = src;
      img.addEventListener("error", function () { img.replaceWith(placeholder(p)); });
      media.appendChild(img);
    } else {
      media.appendChild(placeholder(p));
    }
    var body = el("div", "dg-card-body");
    var name = el("h4", "dg-card-title", p.title);
    name.title = String(p.title || "");
    var price = el("div", "dg-card-price", yuan(p.price));
    var meta = el("div", "dg-card-meta");
    meta.appendChild(el("span", "dg-rating", "★ " + Number(p.rating || 0).toFixed(1)));
    var stock = el("span", "dg-stock" + (Number(p.stock) > 0 ? "" : " dg-out"), stockText(p.stock));
    meta.appendChild(stock);
    var actions = el("div", "dg-card-actions");
    var detail = el("a", "dg-btn dg-detail", "详情");
    detail.href = productUrl(p.sku);
    detail.addEventListener("click", function () { track("click", p.sku); });
    var similar = el("button", "dg-btn dg-similar", "看相似");
    similar.type = "button";
    similar.addEventListener("click", function () {
      track("click", p.sku);
      send("看看和" + p.title + "类似的");
    });
    var cart = el("button", "dg-btn dg-cart", "加入购物车");
    cart.type = "button";
    cart.disabled = !(Number(p.stock) > 0);
    cart.addEventListener("click", function () { addToCart(p, cart); });
    actions.append(detail, similar, cart);
    body.append(name, price, meta, actions);
    card.append(media, body);
    impressions.observe(card);
    return card;
  }

  function carousel(items) {
    var box = el("div", "dg-carousel");
    var track = el("div", "dg-track");
    items.forEach(function (p) {
      if (p && p.sku) track.appendChild(productCard(p));
    });
    var prev = el("button", "dg-nav dg-prev");
    var next = el("button", "dg-nav dg-next");
    prev.type = next.type = "button";
    prev.setAttribute("aria-label", "上一个");
    next.setAttribute("aria-label", "下一个");
    prev.appendChild(icon(ICON_PREV));
    next.appendChild(icon(ICON_NEXT));
    function step(direction) {
      var card = track.querySelector(".dg-card");
      var width = card ? card.getBoundingClientRect().width + 10 : 200;
      track.scrollBy({ left: direction * width, behavior: "smooth" });
    }
    function arrows() {
      prev.hidden = track.scrollLeft <= 2;
      next.hidden = track.scrollLeft + track.clientWidth >= track.scrollWidth - 2;
    }
    prev.addEventListener("click", function () { step(-1); });
    next.addEventListener("click", function () { step(1); });
    track.addEventListener("scroll", arrows, { passive: true });
    box.append(prev, track, next);
    append(box);
    requestAnimationFrame(arrows);
    box.refreshArrows = arrows;
    return box;
  }

  // One bot message in the channel's shapes (REST's keys: text, buttons, image, custom), live
  // or from the history. `custom` kinds: {"type": "products", "items": [...]} (cards) and
  // {"type": "handoff", "state": "started"|"ended"} (a staff member joins or leaves).
  function renderBot(message, fromHistory) {
    var custom = message.custom && typeof message.custom === "object" ? message.custom : null;
    var ended = null; // {id, served}: a handoff just ended, maybe to be rated
    if (custom && custom.type === "handoff") {
      if (custom.state === "started") setStaff(true);
      else if (custom.state === "ended") {
        ended = { id: Number(custom.handoff_id), served: staff }; // served: a person had joined
        setStaff(false);
      }
    }
    if (message.text) addBot(message.text, staff);
    if (ended) maybeAskRating(ended.id, ended.served, fromHistory);
    var image = safeUrl(message.image) ||
      (message.attachment && message.attachment.type === "image" && message.attachment.payload
        ? safeUrl(message.attachment.payload.src) : null);
    if (image) {
      var figure = el("div", "dg-row dg-bot");
      var img = el("img", "dg-image");
      img.alt = "";
      img.src = image;
      figure.appendChild(img);
      append(figure);
    }
    if (custom && custom.type === "products" && Array.isArray(custom.items) && custom.items.length) {
      carousel(custom.items);
    }
    var buttons = message.buttons ||
      (message.quick_replies || []).map(function (q) { return { title: q.title, payload: q.payload }; });
    if (buttons && buttons.length && !fromHistory) quickReplies(buttons);
    return buttons;
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    hideTyping();
    renderBot(message, false);
    if (panel.hidden) {
      unreadCount += 1;
      unread.textContent = String(unreadCount);
      unread.hidden = false;
    }
  }

  function showTyping() {
    typing.hidden = false;
    scrollToEnd();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
  }

  function greet() {
    addBot(config.greeting, false).classList.add("dg-greeting");
  }

  // -- the rating of a handoff (issue #16) ----------------------------------------------------------
  var ratingDue = null; // the history's released, unrated handoff (GET /api/widget/history)
  var RATING_LABELS = ["很不满意", "不满意", "一般", "满意", "非常满意"];

  function ratedHandoffs() {
    try {
      var list = JSON.parse(localStorage.getItem(RATED_KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  }

  function rememberRated(id) {
    var list = ratedHandoffs().filter(function (x) { return x !== id; });
    list.push(id);
    try { localStorage.setItem(RATED_KEY, JSON.stringify(list.slice(-20))); } catch (e) { /* private mode */ }
  }

  function maybeAskRating(id, served, fromHistory) {
    // Live: only after a person served (a "started" came first). From the history: only the
    // handoff the web app says is still unrated, so an old one is never asked about again.
    if (!(id > 0) || ratedHandoffs().indexOf(id) >= 0) return;
    if (fromHistory ? ratingDue !== id : !served) return;
    askRating(id);
  }

  function askRating(id) {
    var previous = log.querySelector(".dg-rate");
    if (previous) previous.remove();
    var card = el("div", "dg-rate");
    card.dataset.handoff = String(id);
    card.setAttribute("role", "group");
    card.setAttribute("aria-label", "请为本次人工服务打分");
    var stars = el("div", "dg-stars");
    var hint = el("div", "dg-rate-hint");
    hint.setAttribute("aria-live", "polite");
    var buttons = [];
    function light(n) {
      buttons.forEach(function (b, i) { b.classList.toggle("dg-lit", i < n); });
      hint.textContent = n ? RATING_LABELS[n - 1] : "";
    }
    RATING_LABELS.forEach(function (label, i) {
      var n = i + 1;
      var star = el("button", "dg-star", "★");
      star.type = "button";
      star.dataset.rating = String(n);
      star.setAttribute("aria-label", n + " 星：" + label);
      star.title = label;
      star.addEventListener("mouseenter", function () { light(n); });
      star.addEventListener("focus", function () { light(n); });
      star.addEventListener("click", function () { submitRating(card, buttons, hint, id, n); });
      star.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        event.preventDefault();
        var next = buttons[Math.min(4, Math.max(0, i + step))];
        next.focus();
      });
      buttons.push(star);
      stars.appendChild(star);
    });
    stars.addEventListener("mouseleave", function () { light(0); });
    card.append(el("div", "dg-rate-title", "请为本次人工服务打分"), stars, hint);
    append(card);
  }

  function submitRating(card, buttons, hint, id, rating) {
    buttons.forEach(function (b) { b.disabled = true; });
    hint.textContent = "提交中…";
    fetch(api("/api/widget/handoff-rating"), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ rating: rating }),
      credentials: sameOriginApi ? "same-origin" : "include",
    }).then(function (response) {
      if (response.ok || response.status === 409 || response.status === 404) {
        rememberRated(id);
        if (ratingDue === id) ratingDue = null;
        var text = response.ok ? "感谢您的评价！"
          : response.status === 409 ? "您已经评价过了，感谢您的反馈" : "这次服务暂时无法评价，感谢您的耐心";
        var thanks = el("div", "dg-rate-thanks", text);
        thanks.setAttribute("role", "status");
        card.replaceChildren(thanks);
        return;
      }
      throw new Error("rating " + response.status);
    }).catch(function () {
      buttons.forEach(function (b) { b.disabled = false; });
      hint.textContent = "评分没有提交成功，请稍后再试";
    });
  }

  // -- consent to personal recommendations (issue #19) ---------------------------------------------
  var consent = undefined; // undefined: unknown; null: not answered; true / false: the answer

  function showConsent(granted) {
    consent = granted;
    consentBox.hidden = granted !== null;
    footer.hidden = false;
    prefSwitch.checked = granted === true;
  }

  function loadConsent() {
    return fetch(api("/api/widget/consent"), {
      credentials: sameOriginApi ? "same-origin" : "include",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) return; // 404 in development, 401 without a signed identity
      return response.json().then(function (body) {
        showConsent(body.granted === true || body.granted === false ? body.granted : null);
      });
    }).catch(function () { /* the chat works without it */ });
  }

  function answerConsent(granted, fromNotice) {
    consentYes.disabled = consentNo.disabled = prefSwitch.disabled = true;
    return fetch(api("/api/widget/consent"), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ granted: granted }),
      credentials: sameOriginApi ? "same-origin" : "include",
    }).then(function (response) {
      if (!response.ok) throw new Error("consent " + response.status);
      return response.json();
    }).then(function (body) {
      showConsent(body.granted === true);
      addNote(granted ? "已开启个性化推荐，推荐会参考您在本店的浏览和聊天记录"
        : fromNotice ? "好的，只为您显示通用推荐，可随时在下方开启个性化推荐"
          : "已关闭个性化推荐，只为您显示通用推荐");
    }, function () {
      prefSwitch.checked = consent === true;
      addNote("设置没有保存成功，请稍后再试");
    }).then(function () {
      consentYes.disabled = consentNo.disabled = prefSwitch.disabled = false;
    });
  }

  consentYes.addEventListener("click", function () { answerConsent(true, true); });
  consentNo.addEventListener("click", function () { answerConsent(false, true); });
  prefSwitch.addEventListener("change", function () { answerConsent(prefSwitch.checked, false); });

  // -- events for the recommender (POST /api/events) ------------------------------------------
  function track(type, sku) {
    if (!session || !sku) return;
    fetch(api("/api/events"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: session.senderId, sku: sku, type: type, source: "widget" }),
      credentials: sameOriginApi ? "same-origin" : "omit",
      keepalive: true,
    }).catch(function () { /* best effort */ });
  }

  var impressions = "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          impressions.unobserve(entry.target);
          track("impression", entry.target.dataset.sku);
        }
      });
    }, { threshold: 0.5 })
    : { observe: function () {}, unobserve: function () {} };

  function addToCart(product, button) {
    var detail = { sku: product.sku, url: productUrl(product.sku) };
    window.dispatchEvent(new CustomEvent("daogou:add-to-cart", { detail: detail }));
    var callback = window.DaogouWidget && window.DaogouWidget.onAddToCart;
    if (typeof callback === "function") {
      try {
        callback({ sku: detail.sku, url: detail.url }, {
          sku: product.sku, title: product.title, brand: product.brand,
          category: product.category, price: product.price, image: product.image || null,
        });
      } catch (e) {
        console.error("DaogouWidget.onAddToCart:", e);
      }
    }
    track("add_to_cart", product.sku);
    button.textContent = "已加入";
    button.classList.add("dg-done");
    setTimeout(function () {
      button.textContent = "加入购物车";
      button.classList.remove("dg-done");
    }, 1500);
  }

  // -- the connection ---------------------------------------------------------------------------
  var socket = null;
  var ready = false; // session_confirm received on the current connection
  var outbox = []; // messages typed while (re)connecting, sent after session_confirm

  function loadSocketIo() {
    if (window.io && window.io.protocol === 5) return Promise.resolve(window.io); // v3/v4
    return new Promise(function (resolve, reject) {
      var previous = window.io; // a host page's own (older) client stays where it was
      var tag = document.createElement("script");
      tag.src = new URL("../vendor/socket.io.min.js", scriptUrl).href;
      tag.onload = function () {
        var io = window.io;
        if (previous !== undefined) window.io = previous;
        io ? resolve(io) : reject(new Error("socket.io-client did not load"));
      };
      tag.onerror = function () { reject(new Error("socket.io-client did not load")); };
      document.head.appendChild(tag);
    });
  }

  function showStatus(text) {
    status.textContent = text;
    status.hidden = false;
  }

  function metadata() {
    return config.productSku ? { product_sku: config.productSku } : null;
  }

  function emitMessage(text) {
    var payload = { message: text, session_id: session.senderId };
    var meta = metadata();
    if (meta) payload[config.metadataKey] = meta;
    socket.emit("user_uttered", payload);
  }

  // A load balancer's stickiness key (daogou/cluster.py, deploy/nginx/daogou.conf): one random
  // key per browser, on every Engine.IO request, so a Socket.IO session stays on its Rasa replica.
  function clientKey() {
    try {
      var key = localStorage.getItem("daogou_client_key");
      if (!key) {
        key = randomId();
        localStorage.setItem("daogou_client_key", key);
      }
      return key;
    } catch (e) {
      return randomId(); // storage blocked: this page view only
    }
  }

  function connect(io) {
    socket = io(config.rasaUrl, {
      path: config.socketPath,
      query: { client_key: clientKey() },
      // Called again before every reconnection: an expired token is renewed first.
      auth: function (done) {
        getSession(false).then(
          function (s) { done(s.token ? { token: s.token } : {}); },
          function () { done({}); },
        );
      },
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: session.senderId });
    });
    socket.on("session_confirm", function (confirmed) {
      // The channel answers with the id the token names (bot/channels/socketio.py): that one is
      // the conversation, and the user_id of the events.
      if (typeof confirmed === "string" && confirmed) session.senderId = confirmed;
      ready = true;
      status.hidden = true;
      root.classList.remove("dg-offline");
      var queued = outbox;
      outbox = [];
      queued.forEach(emitMessage);
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function (reason) {
      ready = false;
      if (reason === "io client disconnect") return;
      showStatus("重新连接中…");
      root.classList.add("dg-offline");
      if (reason === "io server disconnect") socket.connect(); // not retried by the client
    });
    socket.on("connect_error", function () {
      showStatus("重新连接中…");
      root.classList.add("dg-offline");
      if (!socket.active) {
        // The server refused this connection (an expired or rejected token): new token, retry.
        setTimeout(function () {
          getSession(true).then(function () { socket.connect(); }, function () { socket.connect(); });
        }, 2000);
      }
    });
  }

  function loadHistory() {
    return fetch(api("/api/widget/history"), {
      credentials: sameOriginApi ? "same-origin" : "include",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) return []; // 404 in development, 401 without a signed identity
      return response.json().then(function (body) {
        ratingDue = body && body.rating_due > 0 ? Number(body.rating_due) : null;
        return Array.isArray(body) ? body : (body && body.items) || [];
      });
    }).catch(function () { return []; });
  }

  function showHistory(messages) {
    var lastButtons = null;
    messages.forEach(function (m) {
      if (!m || typeof m !== "object") return;
      if (m.sender === "user") {
        if (m.text) addUser(m.text);
        lastButtons = null;
      } else {
        var buttons = renderBot(m, true);
        lastButtons = buttons && buttons.length ? buttons : lastButtons;
      }
    });
    if (lastButtons) quickReplies(lastButtons); // only the last turn's suggestions stay usable
  }

  function identify() {
    // The shopper's id, retried every 3 s while the web app cannot be reached.
    return getSession(false).catch(function () {
      showStatus("暂时连接不上导购助手，正在重试…");
      return new Promise(function (resolve) { setTimeout(resolve, 3000); }).then(identify);
    });
  }

  var started = null;
  function start() {
    // History, then the connection: once per page.
    if (started) return started;
    started = identify()
      .then(function () {
        loadConsent(); // beside the history: the notice never holds the chat up
        return loadHistory();
      })
      .then(function (messages) {
        showHistory(messages);
        return loadSocketIo();
      })
      .then(connect)
      .catch(function (error) {
        console.error("Daogou widget:", error);
        showStatus("导购助手暂时无法连接，请稍后刷新页面");
      });
    return started;
  }

  // -- sending ------------------------------------------------------------------------------------
  function send(text, shown) {
    text = String(text || "").trim();
    if (!text) return;
    clearQuickReplies();
    addUser(shown || text);
    try { sessionStorage.setItem(TALKED_KEY, "1"); } catch (e) { /* private mode */ }
    showTyping();
    if (ready && socket && socket.connected) emitMessage(text);
    else outbox.push(text);
  }

  // Chinese IME: Enter that picks a candidate must never send. Chrome and Firefox mark that
  // keydown isComposing (keyCode 229); Safari fires compositionend first and then a keydown with
  // keyCode 229, so the flag alone is not enough and the composition's end is remembered too.
  var composing = false;
  var compositionEndedAt = -Infinity;
  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function (event) {
    composing = false;
    compositionEndedAt = event.timeStamp;
  });

  function imeBusy(event) {
    return (
      composing || event.isComposing || event.keyCode === 229 ||
      event.timeStamp - compositionEndedAt < 100
    );
  }

  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey) return;
    if (imeBusy(event)) return; // the IME takes this Enter
    event.preventDefault();
    submit();
  });
  input.addEventListener("input", function () {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (composing) return;
    submit();
  });

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    input.style.height = "auto";
    send(text);
  }

  // -- open and close --------------------------------------------------------------------------
  var pageOverflow = null;

  function lockPage(lock) {
    // Phone: the panel covers the page, which must not scroll underneath.
    var html = document.documentElement;
    if (lock && PHONE.matches && pageOverflow === null) {
      pageOverflow = html.style.overflow;
      html.style.overflow = "hidden";
    } else if (!lock && pageOverflow !== null) {
      html.style.overflow = pageOverflow;
      pageOverflow = null;
    }
  }

  function open() {
    panel.hidden = false;
    root.classList.add("dg-open");
    unreadCount = 0;
    unread.hidden = true;
    lockPage(true);
    try { sessionStorage.setItem(OPEN_KEY, "1"); } catch (e) { /* private mode */ }
    start();
    scrollToEnd();
    log.querySelectorAll(".dg-carousel").forEach(function (c) { c.refreshArrows && c.refreshArrows(); });
    if (!PHONE.matches) input.focus();
  }

  function close() {
    panel.hidden = true;
    root.classList.remove("dg-open");
    lockPage(false);
    try { sessionStorage.removeItem(OPEN_KEY); } catch (e) { /* private mode */ }
    bubble.focus();
  }

  bubble.addEventListener("click", function () { panel.hidden ? open() : close(); });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
  PHONE.addEventListener("change", function () { lockPage(!panel.hidden); });

  // -- the public object ------------------------------------------------------------------------
  var existing = window.DaogouWidget || {};
  var widget = {
    version: "1.0.0",
    config: Object.freeze(Object.assign({}, config)),
    open: open,
    close: close,
    send: function (text) { open(); send(text); },
    // The product the page shows now (single-page shops): sent as metadata with each message.
    setProduct: function (sku) { config.productSku = sku ? String(sku) : ""; },
    onAddToCart: typeof existing.onAddToCart === "function" ? existing.onAddToCart : null,
  };
  Object.defineProperty(widget, "senderId", {
    get: function () { return session ? session.senderId : null; },
  });
  Object.defineProperty(widget, "connected", { get: function () { return ready; } });
  // For debugging and the browser tests (dropping the connection); not an API.
  Object.defineProperty(widget, "socket", { get: function () { return socket; } });
  window.DaogouWidget = widget;

  function mount() {
    document.body.appendChild(host);
    greet();
    var reopen = false;
    try { reopen = sessionStorage.getItem(OPEN_KEY) === "1"; } catch (e) { /* private mode */ }
    var talked = false;
    try { talked = sessionStorage.getItem(TALKED_KEY) === "1"; } catch (e) { /* private mode */ }
    if (reopen || config.open === "true") {
      open();
    } else if (talked) {
      // A conversation in this tab: connect now, so replies and staff messages arrive (and
      // count as unread) while the panel is closed.
      start();
    } else {
      // A visitor who has not talked yet holds no connection to Rasa until they open the panel.
      identify();
    }
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
