// The handoff to a person, live. On every staff page (templates/console/base.html loads this for
// staff and admins): the 「人工接待」 badge counts waiting requests, and a request that arrives
// while the tab is hidden makes the title blink 「(1) 新的人工请求」 with a short beep. On the desk
// (templates/console/staff/handoffs.html): the queue, the selected conversation, take, messages,
// canned replies, product cards, hand back, left messages.
//
// One EventSource per tab on /api/handoffs/stream (events request, message, taken, expired,
// closed): each event makes the page read the queue again rather than patch it, so a missed or
// reordered event cannot leave it wrong. Every shopper and staff text is put on the page with
// textContent, never as markup. Each staff tab holds one stream: over plain HTTP/1.1 a browser
// keeps at most 6 connections per host, so serve the console over HTTP/2 (a reverse proxy)
// where staff keep many tabs open.
(function () {
  "use strict";

  const STREAM = "/api/handoffs/stream";
  const KINDS = ["request", "message", "taken", "expired", "closed"];
  const SHOP_TZ = "Asia/Shanghai"; // the shop's time, as the server's pages show it

  const api = (path, options) => window.Console.api(path, options);
  const toast = (text, kind) => window.Console.toast(text, kind);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // 「45 秒」「3 分 05 秒」「1 小时 02 分」, as web/routes/handoff_pages.py's wait_text.
  function waitText(seconds) {
    const total = Math.max(0, Math.floor(seconds));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const secs = total % 60;
    const two = (n) => String(n).padStart(2, "0");
    if (hours) return hours + " 小时 " + two(minutes) + " 分";
    if (minutes) return minutes + " 分 " + two(secs) + " 秒";
    return secs + " 秒";
  }

  const shopFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: SHOP_TZ, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  });
  function shopTime(iso) {
    if (!iso) return "";
    const parts = {};
    shopFormat.formatToParts(new Date(iso)).forEach((p) => { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }

  function yuan(price) {
    const cents = Math.round(price * 100) % 100 !== 0;
    return "¥" + price.toLocaleString("en-US", {
      minimumFractionDigits: cents ? 2 : 0, maximumFractionDigits: cents ? 2 : 0,
    });
  }

  // -- the live feed ------------------------------------------------------------------------------

  const feedListeners = [];
  let liveState = null;

  function connectFeed() {
    if (!window.EventSource) return;
    const source = new EventSource(STREAM);
    KINDS.forEach((kind) => {
      source.addEventListener(kind, (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        feedListeners.forEach((listener) => listener(kind, data));
      });
    });
    // After a reconnection whatever happened meanwhile is read again.
    source.addEventListener("open", () => {
      showLive(true);
      feedListeners.forEach((listener) => listener("open", {}));
    });
    source.addEventListener("error", () => showLive(false));
  }

  function showLive(on) {
    if (!liveState) return;
    liveState.textContent = on ? "实时更新中" : "正在重新连接…";
    liveState.classList.toggle("off", !on);
  }

  // -- the navigation's badge and the alert -------------------------------------------------------

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function setupBadge(badge) {
    const refresh = debounce(async () => {
      try {
        const waiting = await api("/api/handoffs?status=waiting&limit=0");
        badge.textContent = String(waiting.total);
        badge.hidden = waiting.total === 0;
      } catch (e) { /* the next event tries again */ }
    }, 150);
    feedListeners.push(refresh);
  }

  const alerting = { base: document.title, unseen: 0, timer: null, audio: null };

  function alertTitle() {
    return "(" + alerting.unseen + ") 新的人工请求";
  }

  function newRequestWhileHidden() {
    if (!document.hidden) return;
    alerting.unseen += 1;
    beep();
    if (alerting.timer) return;
    let on = false;
    const blink = () => {
      on = !on;
      document.title = on ? alertTitle() + " · " + alerting.base : alerting.base;
    };
    blink();
    alerting.timer = setInterval(blink, 1000);
  }

  function stopAlert() {
    if (document.hidden) return;
    clearInterval(alerting.timer);
    alerting.timer = null;
    alerting.unseen = 0;
    document.title = alerting.base;
  }

  // Browsers start audio only after the user touched the page: the context is made then.
  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || alerting.audio) return;
    try { alerting.audio = new Context(); } catch (e) { alerting.audio = null; }
  }

  function beep() {
    const audio = alerting.audio;
    if (!audio || audio.state !== "running") return;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.06;
    tone.connect(gain);
    gain.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.18);
  }

  function setupAlert() {
    feedListeners.push((kind, data) => {
      if (kind === "request" && data.status === "waiting") newRequestWhileHidden();
    });
    document.addEventListener("visibilitychange", stopAlert);
    document.addEventListener("pointerdown", unlockAudio, { once: true });
    document.addEventListener("keydown", unlockAudio, { once: true });
  }

  // -- the desk -----------------------------------------------------------------------------------

  function setupDesk(desk) {
    const me = desk.dataset.me;
    const isAdmin = desk.dataset.role === "admin";
    const $ = (selector) => desk.querySelector(selector);
    const panel = {
      empty: $("[data-panel-empty]"), body: $("[data-panel-body]"), title: $("[data-panel-title]"),
      meta: $("[data-panel-meta]"), take: $("[data-take]"), release: $("[data-release]"),
      closeLeft: $("[data-close-left]"), full: $("[data-full-transcript]"),
      ownerNote: $("[data-owner-note]"), left: $("[data-left-message]"), leftText: $("[data-left-text]"),
      transcript: $("[data-transcript]"), composer: $("[data-composer]"), box: $("[data-message]"),
      send: $("[data-send]"), canned: $("[data-canned]"), cannedForm: $("[data-canned-form]"),
      cardForm: $("[data-card-form]"), sendCard: $("[data-send-card]"), tools: $("[data-tools]"),
    };
    let items = new Map(); // id -> the API's HandoffOut
    let selected = null; // the HandoffOut shown on the right
    let lastEventId = 0;
    let seenEvents = new Set();
    let queueRead = 0; // only the latest answer of overlapping reads is drawn
    let wanted = Number(new URLSearchParams(location.search).get("id")) || null; // once read

    // The queue ---------------------------------------------------------------------------------

    function placeText(item) {
      if (item.status === "waiting") return item.position ? "第 " + item.position + " 位" : "等待中";
      if (item.status === "expired") return item.expired_reason === "closed_hours" ? "非服务时间" : "等待超时";
      if (item.status === "left_message") return "留言";
      if (item.status === "closed") return "已结束";
      return "接待中";
    }

    function ownerText(item) {
      if (!item.taken_by) return "";
      return item.taken_by === me ? "我在接待" : "由 " + item.taken_by + " 接待";
    }

    function lastText(item) {
      if (item.status === "left_message") return item.left_message || "";
      return item.last_shopper_message || item.request_text || "";
    }

    function shopperLabel(sender) {
      return "顾客 " + sender.slice(-6);
    }

    function queueItem(item, readAt) {
      const li = el("li", "queue-item status-" + item.status);
      li.dataset.handoffId = item.id;
      li.dataset.sender = item.sender_id;
      li.dataset.status = item.status;
      li.classList.toggle("selected", !!selected && selected.id === item.id);
      const button = el("button", "queue-open");
      button.type = "button";
      button.dataset.open = "";
      const line = el("span", "queue-line");
      line.append(el("strong", "who", shopperLabel(item.sender_id)), el("span", "place", placeText(item)));
      let wait;
      if (item.status === "waiting" || item.status === "expired") {
        wait = el("span", "wait", "已等 " + waitText(item.waiting_seconds));
        wait.dataset.waitSeconds = item.waiting_seconds;
        wait.dataset.readAt = readAt;
      } else if (item.status === "active") {
        wait = el("span", "wait", "等了 " + waitText(item.waiting_seconds));
      } else {
        wait = el("span", "wait", shopTime(item.left_at));
      }
      line.append(wait);
      const owner = el("span", "owner" + (item.taken_by === me ? " mine" : ""), ownerText(item));
      owner.hidden = !item.taken_by;
      button.append(line, owner, el("span", "last", lastText(item)));
      li.append(button);
      return li;
    }

    const EMPTY = {
      waiting: "暂时没有等待接待的顾客", active: "没有进行中的接待", left: "没有未处理的留言",
    };

    function groupOf(item) {
      if (item.status === "waiting" || item.status === "expired") return "waiting";
      return item.status === "active" ? "active" : "left";
    }

    function drawQueue() {
      const readAt = Date.now();
      const groups = { waiting: [], active: [], left: [] };
      items.forEach((item) => groups[groupOf(item)].push(item));
      // Waiting before expired, each oldest first; my own conversations before others'.
      const rank = (item) => (item.status === "expired" ? 1 : 0) + (item.taken_by && item.taken_by !== me ? 1 : 0);
      Object.keys(groups).forEach((key) => {
        const list = groups[key].sort((a, b) => rank(a) - rank(b) || a.id - b.id);
        const ul = desk.querySelector('[data-queue="' + key + '"]');
        ul.replaceChildren(...(list.length
          ? list.map((item) => queueItem(item, readAt))
          : [el("li", "queue-empty muted", EMPTY[key])]));
        ul.closest(".queue-group").querySelector("[data-group-count]").textContent = String(list.length);
      });
    }

    async function readQueue() {
      const ticket = ++queueRead;
      try {
        const [open, left] = await Promise.all([
          api("/api/handoffs?status=open&limit=100"),
          api("/api/handoffs?status=left_message&limit=100"),
        ]);
        if (ticket !== queueRead) return;
        items = new Map([...open.items, ...left.items].map((item) => [item.id, item]));
        drawQueue();
        if (wanted && items.has(wanted)) {
          select(wanted);
        } else if (selected && items.has(selected.id)) {
          selected = items.get(selected.id);
          drawPanel();
        }
        wanted = null;
      } catch (error) {
        if (ticket === queueRead) toast(error.message, "error");
      }
    }
    const scheduleQueue = debounce(readQueue, 120);

    // The waiting times count up between two reads of the queue.
    setInterval(() => {
      const now = Date.now();
      desk.querySelectorAll("[data-wait-seconds]").forEach((wait) => {
        const seconds = Number(wait.dataset.waitSeconds) + (now - Number(wait.dataset.readAt || now)) / 1000;
        wait.textContent = "已等 " + waitText(seconds);
      });
    }, 1000);

    // The conversation on the right -------------------------------------------------------------

    const STATUS = {
      waiting: "等待接待", expired: "等待超时，可以接待", active: "人工接待中",
      left_message: "顾客留言", closed: "已结束",
    };

    function owned() {
      return !!selected && selected.status === "active" && selected.taken_by === me;
    }

    function drawPanel() {
      if (!selected) {
        panel.body.hidden = true;
        panel.empty.hidden = false;
        desk.classList.remove("has-selection");
        return;
      }
      const item = selected;
      panel.empty.hidden = true;
      panel.body.hidden = false;
      desk.classList.add("has-selection");
      panel.title.replaceChildren("顾客 ", el("span", "mono", item.sender_id));
      const meta = [STATUS[item.status] || item.status, shopTime(item.requested_at) + " 发起"];
      if (item.status === "waiting" && item.position) meta.push("排第 " + item.position + " 位");
      panel.meta.textContent = meta.join(" · ");
      panel.take.hidden = !(item.status === "waiting" || item.status === "expired");
      panel.release.hidden = !(item.status === "active" && (item.taken_by === me || isAdmin));
      panel.closeLeft.hidden = item.status !== "left_message";
      panel.full.href = "/console/conversations/" + encodeURIComponent(item.sender_id);
      const other = item.status === "active" && item.taken_by && item.taken_by !== me;
      panel.ownerNote.hidden = !other;
      panel.ownerNote.textContent = other ? "该会话由 " + item.taken_by + " 接待，您可以查看对话，但不能发送消息。" : "";
      panel.left.hidden = !item.left_message;
      panel.leftText.textContent = item.left_message || "";
      // A left message or an ended conversation is only read: nothing to send there.
      const open = ["waiting", "expired", "active"].includes(item.status);
      panel.composer.hidden = panel.tools.hidden = !open;
      const mine = owned();
      panel.box.disabled = !mine;
      panel.send.disabled = !mine;
      panel.sendCard.disabled = !mine;
      panel.box.placeholder = mine
        ? "输入消息，按 Enter 发送，Shift+Enter 换行"
        : item.status === "active" ? "该会话由其他客服接待" : "接待后才能发送消息";
      desk.querySelectorAll(".queue-item").forEach((li) => {
        li.classList.toggle("selected", Number(li.dataset.handoffId) === item.id);
      });
    }

    function who(line) {
      if (line.speaker === "shopper") return "顾客";
      if (line.speaker === "staff") return "客服 " + line.staff;
      return line.speaker === "holding" ? "自动回复" : "智能助手";
    }

    function transcriptLine(line) {
      const li = el("li", "msg " + (line.speaker === "shopper" ? "shopper" : "bot"));
      if (line.speaker === "staff") li.classList.add("staff");
      if (line.speaker === "holding") li.classList.add("holding");
      li.dataset.event = line.event_id;
      li.dataset.speaker = line.speaker;
      if (line.note) li.append(el("div", "handoff-note", line.note));
      if (!line.text && !line.products.length && !line.buttons.length) {
        li.classList.add("note-only");
        return li;
      }
      const head = el("div", "who", who(line));
      if (line.at) head.append(el("time", "", shopTime(line.at).slice(11)));
      li.append(head);
      if (line.text) li.append(el("div", "bubble", line.text));
      if (line.products.length) {
        const cards = el("div", "cards");
        line.products.forEach((product) => {
          const card = el("div", "card-mini");
          card.dataset.sku = product.sku;
          card.append(el("div", "card-title", product.title));
          const meta = el("div", "card-meta");
          if (product.price !== null) meta.append(el("span", "price", yuan(product.price)));
          card.append(meta, el("div", "muted sku", product.sku));
          cards.append(card);
        });
        li.append(cards);
      }
      if (line.buttons.length) {
        const chips = el("div", "chips");
        line.buttons.forEach((title) => chips.append(el("span", "chip", title)));
        li.append(chips);
      }
      return li;
    }

    function appendLines(lines) {
      const box = panel.transcript;
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      if (lines.length) box.querySelectorAll(".transcript-empty").forEach((li) => li.remove());
      else if (!box.children.length) box.append(el("li", "transcript-empty muted", "还没有对话内容"));
      lines.forEach((line) => {
        if (seenEvents.has(line.event_id)) return;
        seenEvents.add(line.event_id);
        lastEventId = Math.max(lastEventId, line.event_id);
        box.append(transcriptLine(line));
      });
      if (atBottom || lines.length) box.scrollTop = box.scrollHeight;
    }

    // One read at a time; a read asked for meanwhile runs after it (only new lines are fetched).
    let reading = null;
    let readAgain = false;
    function readTranscript() {
      if (!selected) return Promise.resolve(0);
      if (reading) { readAgain = true; return reading; }
      const id = selected.id;
      const before = lastEventId;
      reading = api("/api/handoffs/" + id + "/transcript?after=" + lastEventId)
        .then((answer) => {
          if (selected && selected.id === id) appendLines(answer.items);
        })
        .catch((error) => { if (selected && selected.id === id) toast(error.message, "error"); })
        .then(() => {
          reading = null;
          if (readAgain) { readAgain = false; return readTranscript(); }
          return lastEventId - before;
        });
      return reading;
    }

    // What staff sent is in the transcript once Rasa saved it: read until it shows.
    async function readUntilNew() {
      const before = lastEventId;
      for (let attempt = 0; attempt < 4; attempt += 1) {
        await readTranscript();
        if (lastEventId > before) return;
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
    }

    function select(id) {
      const item = items.get(id);
      if (!item) { // clicked in the server's list before the first read answered
        wanted = id;
        scheduleQueue();
        return;
      }
      wanted = null;
      selected = item;
      lastEventId = 0;
      seenEvents = new Set();
      panel.transcript.replaceChildren();
      drawPanel();
      readTranscript();
      history.replaceState(null, "", "?id=" + id);
      if (window.matchMedia("(max-width: 720px)").matches) window.scrollTo(0, 0);
    }

    function deselect() {
      selected = null;
      drawPanel();
      desk.querySelectorAll(".queue-item.selected").forEach((li) => li.classList.remove("selected"));
      history.replaceState(null, "", location.pathname);
    }

    async function act(button, path, done) {
      const id = selected.id;
      button.disabled = true;
      try {
        const item = await api("/api/handoffs/" + id + path, { method: "POST" });
        if (selected && selected.id === id) {
          selected = item;
          drawPanel();
        }
        done(item);
      } catch (error) {
        toast(error.message, "error");
        if (error.status === 409 && selected && selected.id === id && error.body && error.body.taken_by) {
          selected = Object.assign({}, selected, { status: error.body.status, taken_by: error.body.taken_by });
          drawPanel();
        }
      } finally {
        button.disabled = false;
        scheduleQueue();
      }
    }

    panel.take.addEventListener("click", () => act(panel.take, "/take", () => {
      toast("已接入，顾客会看到人工客服已接入", "ok");
      panel.box.focus();
      readUntilNew();
    }));
    panel.release.addEventListener("click", () => act(panel.release, "/release", () => {
      toast("已交还给智能助手", "ok");
      readUntilNew();
    }));
    panel.closeLeft.addEventListener("click", () => act(panel.closeLeft, "/close", () => {
      toast("留言已标记为已处理", "ok");
    }));

    async function send(body) {
      if (!owned()) return false;
      const id = selected.id;
      panel.send.disabled = panel.sendCard.disabled = true;
      try {
        await api("/api/handoffs/" + id + "/messages", { method: "POST", json: body });
        if (selected && selected.id === id) readUntilNew();
        return true;
      } catch (error) {
        toast(error.message, "error");
        if (error.status === 409) scheduleQueue();
        return false;
      } finally {
        drawPanel(); // enables again what may be used
      }
    }

    panel.composer.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = panel.box.value.trim();
      if (!text) return;
      if (await send({ text })) panel.box.value = "";
    });
    // Enter sends, Shift+Enter is a new line. Enter that picks a pinyin candidate is the input
    // method's: isComposing in Chrome and Firefox, keyCode 229 in Safari (after compositionend).
    let composing = false;
    panel.box.addEventListener("compositionstart", () => { composing = true; });
    panel.box.addEventListener("compositionend", () => { composing = false; });
    panel.box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey) return;
      if (event.isComposing || composing || event.keyCode === 229) return;
      event.preventDefault();
      panel.composer.requestSubmit();
    });

    panel.cardForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const sku = panel.cardForm.elements.sku.value.trim();
      if (!sku) return;
      if (await send({ sku })) panel.cardForm.reset();
    });

    // Canned replies ------------------------------------------------------------------------------

    function insert(text) {
      const box = panel.box;
      if (box.disabled) { toast("接待后才能发送消息", "error"); return; }
      box.focus();
      box.setRangeText(text, box.selectionStart, box.selectionEnd, "end");
    }

    async function readCanned() {
      try {
        const replies = await api("/api/canned-replies");
        panel.canned.replaceChildren(...(replies.items.length ? replies.items.map(cannedItem)
          : [el("span", "muted small", "还没有快捷回复，可以在下方添加。")]));
      } catch (error) {
        panel.canned.replaceChildren(el("span", "form-error", error.message));
      }
    }

    function cannedItem(reply) {
      const wrap = el("span", "canned-item");
      const use = el("button", "canned-use", reply.title);
      use.type = "button";
      use.title = reply.text;
      use.dataset.cannedId = reply.id;
      use.addEventListener("click", () => insert(reply.text));
      const remove = el("button", "canned-remove", "×");
      remove.type = "button";
      remove.title = "删除「" + reply.title + "」";
      remove.setAttribute("aria-label", remove.title);
      remove.addEventListener("click", async () => {
        try {
          await api("/api/canned-replies/" + reply.id, { method: "DELETE" });
          readCanned();
        } catch (error) { toast(error.message, "error"); }
      });
      wrap.append(use, remove);
      return wrap;
    }

    panel.cannedForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = panel.cannedForm;
      try {
        await api("/api/canned-replies", {
          method: "POST",
          json: { title: form.elements.title.value.trim(), text: form.elements.text.value.trim() },
        });
        form.reset();
        form.closest("details").open = false;
        toast("快捷回复已保存", "ok");
        readCanned();
      } catch (error) { toast(error.message, "error"); }
    });

    // Wiring ----------------------------------------------------------------------------------------

    desk.addEventListener("click", (event) => {
      const open = event.target.closest("[data-open]");
      if (open) select(Number(open.closest(".queue-item").dataset.handoffId));
    });
    $("[data-back]").addEventListener("click", deselect);

    feedListeners.push((kind, data) => {
      scheduleQueue();
      if (!selected) return;
      if (kind === "open") { readTranscript(); return; }
      if (data.id !== selected.id) return;
      // The event's own state is news already; the queue's read brings the rest.
      selected = Object.assign({}, selected, { status: data.status, taken_by: data.taken_by });
      drawPanel();
      readTranscript();
    });

    liveState = $("[data-live-state]");
    readCanned();
    readQueue();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const badge = document.querySelector("[data-handoff-badge]");
    const desk = document.getElementById("handoff-desk");
    if (!badge && !desk) return;
    if (badge) setupBadge(badge);
    setupAlert();
    if (desk) setupDesk(desk);
    connectFeed();
  });
})();
