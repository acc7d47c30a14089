// The annotation page's "recent retrains" section: the last runs of the gated NLU retrain
// (GET /api/nlu/retrains), each with its date, decision, both models' F1 and the reasons.
// Report texts are only ever set as textContent.
(function () {
  "use strict";

  const SHOWN = 10;
  const TIME = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  });

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const figure = (value) => (value === null || value === undefined ? "—" : value.toFixed(3));

  // "0.950 → 0.967", the candidate's figure marked when it is lower than the serving model's.
  function comparison(serving, candidate) {
    const cell = el("td");
    cell.style.whiteSpace = "nowrap";
    cell.append(el("span", "muted", figure(serving) + " → "));
    const dropped = serving !== null && candidate !== null && candidate < serving;
    cell.append(el("strong", dropped ? "badge bad" : "", figure(candidate)));
    return cell;
  }

  function decision(run) {
    if (run.decision === "refused") return el("span", "badge bad", "未通过");
    if (run.dry_run) return el("span", "badge warn", "通过（试运行）");
    return el("span", "badge ok", run.loaded_into.length ? "已上线" : "通过");
  }

  function row(run) {
    const tr = el("tr");
    tr.dataset.stamp = run.stamp;
    const when = el("td", "small", TIME.format(new Date(run.finished_at)));
    when.style.whiteSpace = "nowrap";
    tr.append(when);
    const verdict = el("td");
    verdict.append(decision(run));
    tr.append(verdict);
    tr.append(comparison(run.serving.intent_macro_f1, run.candidate.intent_macro_f1));
    tr.append(comparison(run.serving.entity_f1, run.candidate.entity_f1));
    const talks = run.conversations;
    tr.append(el("td", "small", talks ? talks.passed + " / " + talks.total : "—"));
    const why = el("td", "small");
    run.reasons.forEach((reason) => why.append(el("div", "", reason)));
    run.notes.forEach((note) => why.append(el("div", "muted", note)));
    if (!run.reasons.length && !run.notes.length) why.append(el("span", "muted", "—"));
    tr.append(why);
    return tr;
  }

  function table(runs) {
    const grid = el("table", "grid nlu-runs-table");
    const head = el("tr");
    ["时间", "结果", "意图 macro-F1（在用 → 新）", "实体 F1（在用 → 新）", "对话测试", "原因与说明"]
      .forEach((title) => head.append(el("th", "", title)));
    grid.append(el("thead"));
    grid.tHead.append(head);
    const body = el("tbody");
    runs.forEach((run) => body.append(row(run)));
    grid.append(body);
    return grid;
  }

  async function show(box) {
    try {
      const page = await window.Console.api("/api/nlu/retrains?limit=" + SHOWN);
      box.replaceChildren(page.items.length
        ? table(page.items)
        : el("p", "muted small", "还没有重新训练过。导出标注后运行 daogou bot retrain 即可。"));
    } catch (error) {
      box.replaceChildren(el("p", "muted small", "暂时读不到训练记录：" + error.message));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.querySelector("[data-nlu-runs-body]");
    if (box) show(box);
  });
})();
