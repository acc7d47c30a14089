// 「店铺问答」 (web/routes/answers.py): edit the shop's FAQ answers and policy numbers, with a
// live preview of what shoppers read (placeholders such as {包邮门槛} filled from the policy
// form, saved or not). Texts reach the page through textContent and value only, never markup.
(function () {
  "use strict";

  const PLACEHOLDER = /\{([^{}\s]{1,20})\}/g;
  const MAX_VARIANTS = 5;

  // {"{包邮门槛}": "99", ...} from the policy form: the numbers as shown there, saved or not.
  function policyValues() {
    const values = {};
    document.querySelectorAll("#policy-form input[data-placeholder]").forEach((input) => {
      if (input.value !== "") values[input.dataset.placeholder] = input.value;
    });
    return values;
  }

  function fill(text, values) {
    return text.replace(PLACEHOLDER, (whole) => (whole in values ? String(values[whole]) : whole));
  }

  function texts(card) {
    return Array.from(card.querySelectorAll("[data-variants] textarea"))
      .map((area) => area.value.trim())
      .filter(Boolean);
  }

  function renderPreview(card, values) {
    const box = card.querySelector("[data-preview]");
    const bubbles = texts(card).map((text) => {
      const bubble = document.createElement("div");
      bubble.className = "preview-bubble";
      bubble.textContent = fill(text, values || policyValues());
      return bubble;
    });
    if (!bubbles.length) {
      const empty = document.createElement("p");
      empty.className = "muted small";
      empty.textContent = "还没有回答：保存前请至少填写一条。";
      bubbles.push(empty);
    }
    box.replaceChildren(...bubbles);
  }

  function renderAllPreviews() {
    const values = policyValues();
    document.querySelectorAll(".answer-card").forEach((card) => renderPreview(card, values));
  }

  function addVariant(card, text) {
    const row = document.createElement("div");
    row.className = "variant";
    const area = document.createElement("textarea");
    area.rows = 3;
    area.maxLength = 1000;
    area.value = text || "";
    area.setAttribute("aria-label", card.querySelector("h2").textContent + "的回答");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-button";
    remove.dataset.remove = "";
    remove.textContent = "删除";
    row.append(area, remove);
    card.querySelector("[data-variants]").appendChild(row);
    return area;
  }

  function setVariants(card, variants) {
    card.querySelector("[data-variants]").replaceChildren();
    variants.forEach((text) => addVariant(card, text));
    renderPreview(card);
  }

  function showError(box, message) {
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function saveAnswer(card, button) {
    const error = card.querySelector("[data-error]");
    showError(error, "");
    const variants = texts(card);
    if (!variants.length) {
      showError(error, "请至少填写一条回答");
      return;
    }
    button.disabled = true;
    try {
      const saved = await window.Console.api("/api/shop-answers/" + card.dataset.topic, {
        method: "PUT",
        json: { variants: variants, revision: Number(card.dataset.revision) },
      });
      showSaved(card, saved);
      window.Console.toast("已保存，导购从下一句起就用新的回答", "ok");
    } catch (failure) {
      const reload = failure.status === 409 ? "（刷新页面可以看到最新版本）" : "";
      showError(error, failure.message + reload);
    } finally {
      button.disabled = false;
    }
  }

  function showSaved(card, saved) {
    card.dataset.revision = String(saved.revision);
    const badge = card.querySelector("[data-edited]");
    badge.textContent = saved.edited ? "已修改" : "默认回答";
    badge.className = saved.edited ? "badge warn" : "badge";
    card.querySelector("[data-updated]").textContent = "刚刚由 " + saved.updated_by + " 修改";
    setVariants(card, saved.variants);
  }

  async function resetAnswer(card, button) {
    const error = card.querySelector("[data-error]");
    showError(error, "");
    if (!window.confirm("恢复为默认回答？这个问题会改回导购训练时的说法。")) return;
    button.disabled = true;
    try {
      const path = "/api/shop-answers/" + card.dataset.topic + "?revision=" + card.dataset.revision;
      showSaved(card, await window.Console.api(path, { method: "DELETE" }));
      window.Console.toast("已恢复默认回答", "ok");
    } catch (failure) {
      const reload = failure.status === 409 ? "（刷新页面可以看到最新版本）" : "";
      showError(error, failure.message + reload);
    } finally {
      button.disabled = false;
    }
  }

  async function savePolicy(form) {
    const error = form.querySelector("[data-policy-error]");
    showError(error, "");
    const body = { revision: Number(form.dataset.revision) };
    for (const input of form.querySelectorAll("input[name]")) {
      const value = Number(input.value);
      if (input.value === "" || !Number.isInteger(value)) {
        showError(error, input.closest("label").firstChild.textContent.trim() + "需要填写整数");
        input.focus();
        return;
      }
      body[input.name] = value;
    }
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const saved = await window.Console.api("/api/shop-policy", { method: "PUT", json: body });
      form.dataset.revision = String(saved.revision);
      form.querySelector("[data-policy-updated]").textContent = "刚刚由 " + saved.updated_by + " 修改";
      renderAllPreviews();
      window.Console.toast("店铺政策已保存，导购马上按新的数字回答", "ok");
    } catch (failure) {
      const reload = failure.status === 409 ? "（刷新页面可以看到最新版本）" : "";
      showError(error, failure.message + reload);
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector(".answer-card")) return;
    renderAllPreviews();

    document.addEventListener("input", (event) => {
      const card = event.target.closest(".answer-card");
      if (card) renderPreview(card);
      else if (event.target.closest("#policy-form")) renderAllPreviews();
    });
    document.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      const card = button && button.closest(".answer-card");
      if (!card) return;
      if (button.hasAttribute("data-add")) {
        if (card.querySelectorAll("[data-variants] textarea").length >= MAX_VARIANTS) {
          window.Console.toast("每个问题最多 " + MAX_VARIANTS + " 种说法", "error");
          return;
        }
        addVariant(card, "").focus();
      } else if (button.hasAttribute("data-remove")) {
        button.closest(".variant").remove();
        renderPreview(card);
      } else if (button.hasAttribute("data-reset")) {
        resetAnswer(card, button);
      } else if (button.hasAttribute("data-save")) {
        saveAnswer(card, button);
      }
    });
    const form = document.getElementById("policy-form");
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        savePolicy(form);
      });
    }
  });
})();
