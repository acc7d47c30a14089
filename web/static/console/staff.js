// The staff console's pages (web/routes/staff_pages.py): saved filter views of the conversation
// list, the transcript's review form and "correct this message" dialog, the annotation inbox
// and its export, and the dashboard's charts. Data from shoppers is only ever set as
// textContent; requests go through Console.api (CSRF header, Chinese error messages).
(function () {
  "use strict";

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- saved filter views (this browser's localStorage) -------------------------------------
  const VIEWS_KEY = "daogou.staff.conversationViews";

  function loadViews() {
    try { return JSON.parse(localStorage.getItem(VIEWS_KEY) || "[]"); } catch (e) { return []; }
  }

  function saveViews(views) { localStorage.setItem(VIEWS_KEY, JSON.stringify(views)); }

  function currentQuery() {
    const params = new URLSearchParams(location.search);
    params.delete("page");
    return params.toString();
  }

  function setupSavedViews() {
    const box = $("[data-saved-views]");
    if (!box) return;
    const select = $("[data-view-select]", box);
    const remove = $("[data-view-delete]", box);
    function fill() {
      const views = loadViews();
      const query = currentQuery();
      select.replaceChildren(el("option", "", views.length ? "选择筛选视图…" : "还没有保存的筛选"));
      select.firstChild.value = "";
      views.forEach((view, i) => {
        const option = el("option", "", view.name);
        option.value = String(i);
        if (view.query === query) option.selected = true;
        select.appendChild(option);
      });
      remove.hidden = select.value === "";
    }
    select.addEventListener("change", () => {
      remove.hidden = select.value === "";
      if (select.value === "") return;
      const view = loadViews()[Number(select.value)];
      if (!view) return;
      const url = "/console/conversations" + (view.query ? "?" + view.query : "");
      if (window.htmx) {
        window.htmx.ajax("GET", url, { target: "#results", source: select }).then(() => {
          history.pushState({}, "", url);
          syncForm();
        });
      } else {
        location.href = url;
      }
    });
    $("[data-view-save]", box).addEventListener("click", () => {
      const name = (window.prompt("给当前筛选起个名字", "") || "").trim();
      if (!name) return;
      const views = loadViews().filter((v) => v.name !== name);
      views.push({ name: name.slice(0, 40), query: currentQuery() });
      saveViews(views);
      fill();
      Console.toast("已保存筛选「" + name + "」（保存在本浏览器）", "ok");
    });
    remove.addEventListener("click", () => {
      const views = loadViews();
      const index = Number(select.value);
      if (!views[index]) return;
      const [gone] = views.splice(index, 1);
      saveViews(views);
      fill();
      Console.toast("已删除筛选「" + gone.name + "」");
    });
    document.body.addEventListener("htmx:pushedIntoHistory", fill);
    window.addEventListener("popstate", () => { syncForm(); fill(); });
    fill();
  }

  // Empty filters stay out of the request and so out of the pushed URL and saved views.
  document.addEventListener("htmx:configRequest", (event) => {
    if (!event.detail.elt || event.detail.elt.id !== "filters") return;
    const params = event.detail.parameters;
    Object.keys(params).forEach((key) => { if (params[key] === "") delete params[key]; });
  });

  // The filter form shows the URL's filters (after a saved view or the back button).
  function syncForm() {
    const form = $("#filters");
    if (!form) return;
    const params = new URLSearchParams(location.search);
    $$("input, select", form).forEach((field) => {
      if (!field.name) return;
      if (field.type === "checkbox") field.checked = params.get(field.name) === field.value;
      else field.value = params.get(field.name) || "";
    });
  }

  // -- the transcript: review -----------------------------------------------------------------
  function setupReview() {
    const form = $("#review-form");
    if (!form) return;
    const sender = $("#review").dataset.sender;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const tags = form.tags.value.split(/[,，、\s]+/).map((t) => t.trim()).filter(Boolean);
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const saved = await Console.api("/api/conversations/" + encodeURIComponent(sender), {
          method: "PATCH",
          json: { tags, note: form.note.value, reviewed: form.reviewed.checked },
        });
        const list = $("[data-tag-list]", form);
        list.replaceChildren(...saved.tags.map((t) => el("span", "badge tag", "#" + t)));
        form.tags.value = saved.tags.join("，");
        $("[data-review-meta]", form).textContent = saved.updated_by + " 刚刚修改";
        Console.toast("已保存", "ok");
      } catch (error) {
        Console.toast(error.message, "error");
      } finally {
        button.disabled = false;
      }
    });
  }

  // -- the transcript: correct a message --------------------------------------------------------
  let domainNames = null;
  async function names() {
    if (!domainNames) domainNames = await Console.api("/api/domain/names");
    return domainNames;
  }

  function setupAnnotate() {
    const dialog = $("#annotate-dialog");
    if (!dialog) return;
    const sender = $("#review").dataset.sender;
    const textBox = $("[data-annotate-text]", dialog);
    const intentSelect = $("[data-intent-select]", dialog);
    const entitySelect = $("[data-entity-select]", dialog);
    const roleSelect = $("[data-role-select]", dialog);
    const startInput = $("[data-start]", dialog);
    const endInput = $("[data-end]", dialog);
    const valueInput = $("[data-value]", dialog);
    const list = $("[data-entity-list]", dialog);
    const errorBox = $(".form-error", dialog);
    const state = { eventId: null, text: "", entities: [] };

    function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }

    function renderText() {
      // The message with the chosen entities marked; text nodes only.
      const spans = state.entities.slice().sort((a, b) => a.start - b.start);
      const parts = [];
      let at = 0;
      spans.forEach((span) => {
        if (span.start > at) parts.push(document.createTextNode(state.text.slice(at, span.start)));
        const mark = el("mark", "", state.text.slice(span.start, span.end));
        mark.title = span.entity + (span.role ? "·" + span.role : "");
        parts.push(mark);
        at = span.end;
      });
      if (at < state.text.length) parts.push(document.createTextNode(state.text.slice(at)));
      textBox.replaceChildren(...parts);
      list.replaceChildren(...state.entities.map((span, i) => {
        const item = el("li");
        item.appendChild(el("span", "badge entity", span.entity + (span.role ? "·" + span.role : "")));
        item.appendChild(el("span", "span-text", "「" + state.text.slice(span.start, span.end) + "」 " + span.start + "–" + span.end));
        if (span.value) item.appendChild(el("span", "muted", " = " + span.value));
        const remove = el("button", "link-button", "移除");
        remove.type = "button";
        remove.addEventListener("click", () => { state.entities.splice(i, 1); renderText(); });
        item.appendChild(remove);
        return item;
      }));
    }

    function fillRoles() {
      const roles = (domainNames && domainNames.roles[entitySelect.value]) || [];
      roleSelect.replaceChildren(el("option", "", "无"));
      roleSelect.firstChild.value = "";
      roles.forEach((role) => { const o = el("option", "", role); o.value = role; roleSelect.appendChild(o); });
      roleSelect.disabled = roles.length === 0;
    }

    // Selecting text in the message fills start and end (offsets in the whole message).
    document.addEventListener("selectionchange", () => {
      if (!dialog.open) return;
      const selection = document.getSelection();
      if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
      const range = selection.getRangeAt(0);
      if (!textBox.contains(range.startContainer) || !textBox.contains(range.endContainer)) return;
      const before = document.createRange();
      before.setStart(textBox, 0);
      before.setEnd(range.startContainer, range.startOffset);
      const start = before.toString().length;
      const end = start + range.toString().length;
      if (end > start) { startInput.value = String(start); endInput.value = String(end); }
    });

    async function open(button) {
      const message = button.closest(".msg");
      state.eventId = Number(button.dataset.annotate);
      state.text = $("[data-text]", message).textContent;
      state.entities = [];
      showError("");
      startInput.value = endInput.value = valueInput.value = "";
      renderText();
      dialog.showModal();
      try {
        const domain = await names();
        intentSelect.replaceChildren();
        const groups = [["意图", domain.intents], ["检索意图（标准答复）", domain.retrieval_intents]];
        groups.forEach(([label, items]) => {
          const group = el("optgroup");
          group.label = label;
          items.forEach((name) => { const o = el("option", "", name); o.value = name; group.appendChild(o); });
          intentSelect.appendChild(group);
        });
        const predicted = button.dataset.intent || "";
        intentSelect.value = [...domain.intents, ...domain.retrieval_intents].includes(predicted) ? predicted : "";
        if (!intentSelect.value) intentSelect.selectedIndex = 0;
        entitySelect.replaceChildren(...domain.entities.map((name) => { const o = el("option", "", name); o.value = name; return o; }));
        fillRoles();
      } catch (error) {
        showError(error.message);
      }
    }

    entitySelect.addEventListener("change", fillRoles);
    $$("[data-annotate]").forEach((button) => button.addEventListener("click", () => open(button)));
    $("[data-annotate-cancel]", dialog).addEventListener("click", () => dialog.close());

    $("[data-entity-add]", dialog).addEventListener("click", () => {
      showError("");
      const start = Number(startInput.value), end = Number(endInput.value);
      if (startInput.value === "" || endInput.value === "" || !(start >= 0 && end > start && end <= state.text.length)) {
        showError("请先在消息里选中文字，或填写正确的开始和结束位置（0 到 " + state.text.length + "）");
        return;
      }
      if (state.entities.some((e) => start < e.end && e.start < end)) { showError("实体的范围不能重叠"); return; }
      const span = { start, end, entity: entitySelect.value };
      if (roleSelect.value) span.role = roleSelect.value;
      if (valueInput.value.trim()) span.value = valueInput.value.trim();
      state.entities.push(span);
      startInput.value = endInput.value = valueInput.value = "";
      renderText();
    });

    $("[data-annotate-save]", dialog).addEventListener("click", async () => {
      showError("");
      if (!intentSelect.value) { showError("请选择正确的意图"); return; }
      try {
        await Console.api("/api/conversations/" + encodeURIComponent(sender) + "/annotations", {
          method: "POST",
          json: { event_id: state.eventId, intent: intentSelect.value, entities: state.entities },
        });
        dialog.close();
        Console.toast("已保存到标注收件箱", "ok");
      } catch (error) {
        showError(error.message);
      }
    });
  }

  // -- the annotation inbox -----------------------------------------------------------------------
  function setupAnnotations() {
    $$("[data-status][data-id]").forEach((button) => {
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await Console.api("/api/annotations/" + button.dataset.id, { method: "PATCH", json: { status: button.dataset.status } });
          const row = button.closest("tr");
          if (row) row.remove();
          Console.toast(button.dataset.status === "discarded" ? "已丢弃" : "已恢复到收件箱", "ok");
        } catch (error) {
          button.disabled = false;
          Console.toast(error.message, "error");
        }
      });
    });
    const exportButton = $("[data-export]");
    if (!exportButton) return;
    const box = $("[data-export-result]");
    const RESULT_KEY = "daogou.staff.exportResult";
    function showResult(result) {
      box.replaceChildren(
        el("strong", "", "已导出 " + result.examples + " 条训练样例"),
        el("span", "muted", " 写入文件 "),
        el("code", "", result.path),
        el("div", "muted small", "运行 daogou bot retrain：新模型通过评估后自动上线。"),
      );
      box.dataset.examples = String(result.examples);
      box.dataset.path = result.path;
      box.hidden = false;
    }
    // The page is reloaded after an export (tabs and counts as they are now); the result stays.
    const kept = sessionStorage.getItem(RESULT_KEY);
    if (kept) {
      sessionStorage.removeItem(RESULT_KEY);
      try { showResult(JSON.parse(kept)); } catch (e) { /* ignore */ }
    }
    exportButton.addEventListener("click", async () => {
      exportButton.disabled = true;
      try {
        const result = await Console.api("/api/annotations/export", { method: "POST" });
        sessionStorage.setItem(RESULT_KEY, JSON.stringify({ examples: result.examples, path: result.path }));
        location.reload();
      } catch (error) {
        Console.toast(error.message, "error");
        exportButton.disabled = false;
      }
    });
  }

  // -- the dashboard ------------------------------------------------------------------------------
  const charts = {};
  const COLORS = ["#ef4f2b", "#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2"];
  const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v * 1000) / 10 + "%");

  function chart(name) {
    const node = $('[data-chart="' + name + '"]');
    if (!charts[name]) charts[name] = window.echarts.init(node, null, { renderer: "canvas" });
    return charts[name];
  }

  const grid = { left: 48, right: 16, top: 36, bottom: 32, containLabel: true };
  const textStyle = { fontFamily: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" };

  function draw(data) {
    const report = data.dashboard;
    $$("[data-kpi]").forEach((node) => {
      const key = node.dataset.kpi;
      node.textContent = key === "conversations" ? String(report.conversations) : pct(report[key]);
    });
    const days = report.days.map((d) => d.day.slice(5));
    chart("days").setOption({
      color: COLORS, textStyle, grid, tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "对话", type: "bar", data: report.days.map((d) => d.conversations), barMaxWidth: 24 },
        { name: "顾客消息", type: "line", data: report.days.map((d) => d.shopper_messages) },
        { name: "机器人消息", type: "line", data: report.days.map((d) => d.bot_messages) },
      ],
    }, true);
    const rates = [["未识别率", report.fallback_rate, "#b91c1c"], ["转人工率", report.handoff_rate, "#d97706"], ["无需人工", report.answered_without_person, "#16a34a"]];
    chart("rates").setOption({
      textStyle, grid, tooltip: { trigger: "axis", valueFormatter: (v) => (v === null ? "—" : v + "%") },
      xAxis: { type: "category", data: rates.map((r) => r[0]) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{
        type: "bar", barMaxWidth: 48,
        data: rates.map((r) => ({ value: r[1] === null ? null : Math.round(r[1] * 1000) / 10, itemStyle: { color: r[2] } })),
        label: { show: true, position: "top", formatter: (p) => (p.value === null || p.value === undefined ? "—" : p.value + "%") },
      }],
    }, true);
    const intents = report.top_intents.slice().reverse();
    chart("intents").setOption({
      color: ["#2563eb"], textStyle, grid: Object.assign({}, grid, { left: 8 }), tooltip: { trigger: "axis" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: intents.map((c) => c.name), axisLabel: { width: 130, overflow: "truncate" } },
      series: [{ name: "对话数", type: "bar", data: intents.map((c) => c.count), barMaxWidth: 18 }],
    }, true);
    const sources = { chat: "聊天", widget: "聊天窗口", storefront: "商城页面" };
    chart("funnel").setOption({
      color: ["#94a3b8", "#2563eb", "#ef4f2b"], textStyle, grid, legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "category",
        data: report.funnel.map((f) => (sources[f.source] || f.source) + "\n点击率 " + pct(data.click_rates[f.source]) + " · 加购率 " + pct(data.cart_rates[f.source])),
        axisLabel: { interval: 0, lineHeight: 16, fontSize: 11 },
      },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "曝光", type: "bar", data: report.funnel.map((f) => f.impressions), barMaxWidth: 28 },
        { name: "点击", type: "bar", data: report.funnel.map((f) => f.clicks), barMaxWidth: 28 },
        { name: "加购", type: "bar", data: report.funnel.map((f) => f.add_to_cart), barMaxWidth: 28 },
      ],
      graphic: report.funnel.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: "这段时间没有推荐数据", fill: "#6b7280", fontSize: 14 } }],
    }, true);
    drawRatings(report.handoff_ratings);
    drawAbTest(data.ab_test);
    const body = $("[data-unanswered]");
    if (!report.unanswered.length) {
      const row = el("tr");
      const cell = el("td", "muted", "这段时间没有未能回答的问题");
      cell.colSpan = 2;
      row.appendChild(cell);
      body.replaceChildren(row);
    } else {
      body.replaceChildren(...report.unanswered.map((c) => {
        const row = el("tr");
        row.appendChild(el("td", "", c.name));
        row.appendChild(el("td", "num", c.count));
        return row;
      }));
    }
  }

  // The shoppers' ratings of the handoffs that ended in the period (issue #16).
  function drawRatings(ratings) {
    const none = !ratings || !ratings.count;
    $("[data-rating-average]").textContent = none ? "暂无评分" : ratings.average.toFixed(1) + " 分";
    $("[data-rating-count]").textContent = none ? "" : "共 " + ratings.count + " 条评价";
    chart("ratings").setOption({
      color: ["#d97706"], textStyle, grid, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: ["1星", "2星", "3星", "4星", "5星"] },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: "评价数", type: "bar", barMaxWidth: 36,
        data: none ? [0, 0, 0, 0, 0] : ratings.distribution,
        label: { show: !none, position: "top" },
      }],
      graphic: none ? [{ type: "text", left: "center", top: "middle", style: { text: "暂无评分", fill: "#6b7280", fontSize: 14 } }] : [],
    }, true);
  }

  // The current experiment's A/B test per arm (issue #18); hidden while the period has no event
  // of it and no arm event that names no experiment.
  const ARM_NAMES = { served: "现网排序", session_blend: "会话混合排序", ease: "EASE 排序", als: "ALS 排序", pop: "热门排序" };
  const armName = (arm) => ARM_NAMES[arm] || arm;
  const withInterval = (e) => (e.value === null ? "—" : e.low === null ? pct(e.value) : pct(e.value) + "（" + pct(e.low) + " ~ " + pct(e.high) + "）");
  const points = (v) => (v > 0 ? "+" : "") + (Math.round(v * 10000) / 100).toFixed(2);

  function describeDifference(label, e) {
    if (e.value === null) return label + "无法比较";
    const text = label + " " + points(e.value) + " 个百分点";
    if (e.low === null) return text;
    const verdict = e.low > 0 ? "，显著更高" : e.high < 0 ? "，显著更低" : "，差异不显著";
    return text + "（" + points(e.low) + " ~ " + points(e.high) + verdict + "）";
  }

  // The block names the experiment it reports (arm names repeat across experiments) and says
  // how many arm events of the period name none (recorded before they did) and are left out.
  function drawAbTest(test) {
    const box = $("[data-ab-test]");
    box.hidden = !test;
    if (!test) return;
    $("[data-ab-experiment]").textContent = " · 实验：" + test.experiment;
    const unnamed = $("[data-ab-unnamed]");
    unnamed.hidden = !test.unnamed_events;
    unnamed.textContent = "另有 " + test.unnamed_events + " 条早期分组记录未计入：它们记录于实验名称启用之前，无法确定属于哪个实验（可用 daogou ab report --unnamed 单独查看）。";
    if (!test.arms.length) {
      const row = el("tr");
      const cell = el("td", "muted", "这段时间没有本实验的数据");
      cell.colSpan = 7;
      row.appendChild(cell);
      $("[data-ab-arms]").replaceChildren(row);
      $("[data-ab-differences]").replaceChildren();
      return;
    }
    $("[data-ab-arms]").replaceChildren(...test.arms.map((a) => {
      const row = el("tr");
      row.appendChild(el("td", "", armName(a.arm) + (a.arm === test.control ? "（对照组）" : "")));
      [a.shoppers, a.impressions, a.clicks, a.add_to_cart].forEach((n) => row.appendChild(el("td", "num", String(n))));
      row.appendChild(el("td", "", withInterval(a.ctr)));
      row.appendChild(el("td", "", withInterval(a.cart_rate)));
      return row;
    }));
    $("[data-ab-differences]").replaceChildren(...test.differences.map((d) => el(
      "li", "", armName(d.arm) + " 对比 " + armName(d.control) + "：" + describeDifference("点击率", d.ctr) + "；" + describeDifference("加购率", d.cart_rate),
    )));
  }

  function setupDashboard() {
    const form = $("#dashboard-range");
    if (!form) return;
    const errorBox = $("[data-dashboard-error]");
    async function load() {
      errorBox.hidden = true;
      const since = form.since.value, until = form.until.value;
      if (!since || !until || since > until) {
        errorBox.textContent = "请选择正确的日期范围";
        errorBox.hidden = false;
        return;
      }
      const end = new Date(until + "T00:00:00Z");
      end.setUTCDate(end.getUTCDate() + 1);
      const params = new URLSearchParams({ since: since + "T00:00:00", until: end.toISOString().slice(0, 10) + "T00:00:00" });
      try {
        draw(await Console.api("/api/analytics?" + params.toString()));
        document.body.dataset.dashboardReady = "1";
      } catch (error) {
        errorBox.textContent = error.message;
        errorBox.hidden = false;
      }
    }
    form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
    $$("[data-days]", form).forEach((button) => button.addEventListener("click", () => {
      const today = new Date(Date.now() + 8 * 3600 * 1000); // the shop's day (UTC+8)
      const first = new Date(today.getTime() - (Number(button.dataset.days) - 1) * 86400000);
      form.until.value = today.toISOString().slice(0, 10);
      form.since.value = first.toISOString().slice(0, 10);
      load();
    }));
    window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
    load();
  }

  // On a phone only the search box shows until 「更多筛选」 (staff.css).
  function setupMoreFilters() {
    const toggle = $("[data-more-filters]");
    if (!toggle) return;
    const form = $("#filters");
    const params = new URLSearchParams(location.search);
    const used = [...params.keys()].some((key) => key !== "q" && key !== "page" && params.get(key));
    function set(open) {
      form.classList.toggle("expanded", open);
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "收起筛选" : "更多筛选";
    }
    toggle.addEventListener("click", () => set(!form.classList.contains("expanded")));
    set(used);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupMoreFilters();
    setupSavedViews();
    setupReview();
    setupAnnotate();
    setupAnnotations();
    setupDashboard();
  });
})();

// -- the transcript: an admin reveals one masked message (POST .../messages/{id}/unmask) -------
// Kept apart from the blocks above. The original is shown under the masked bubble, never in it:
// the correction dialog keeps working on the masked text the server annotates.
(function () {
  "use strict";

  function setupUnmask() {
    const dialog = document.getElementById("unmask-dialog");
    const review = document.getElementById("review");
    if (!dialog || !review) return;
    const sender = review.dataset.sender;
    const form = dialog.querySelector("form");
    const reason = dialog.querySelector("[data-unmask-reason]");
    const errorBox = dialog.querySelector(".form-error");
    let button = null;

    function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }

    function logEntry(result, why) {
      const list = document.querySelector("[data-unmask-log]");
      if (!list) return;
      const item = document.createElement("li");
      const who = document.createElement("strong");
      who.textContent = list.dataset.actor;
      item.append(who, " 刚刚查看了消息 #" + result.event_id);
      const note = document.createElement("div");
      note.className = "muted small";
      note.textContent = "原因：" + why;
      item.appendChild(note);
      list.prepend(item);
      const empty = document.querySelector("[data-unmask-empty]");
      if (empty) empty.hidden = true;
    }

    document.querySelectorAll("[data-unmask]").forEach((node) => {
      node.addEventListener("click", () => {
        button = node;
        reason.value = "";
        showError("");
        dialog.showModal();
        reason.focus();
      });
    });
    dialog.querySelector("[data-unmask-cancel]").addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const why = reason.value.trim();
      if (!why) { showError("请填写查看原因"); return; }
      const url = "/api/conversations/" + encodeURIComponent(sender) + "/messages/" + button.dataset.unmask + "/unmask";
      try {
        const result = await Console.api(url, { method: "POST", json: { reason: why } });
        const original = button.parentElement.querySelector("[data-original]");
        original.textContent = "原文：" + result.text; // text only: never markup from data
        original.hidden = false;
        button.remove();
        logEntry(result, why);
        dialog.close();
      } catch (error) {
        showError(error.message);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setupUnmask);
})();
