// The merchant console: inline price and stock edits, the product form with its image, attribute
// and relations editors, the import wizard and account administration. Every call goes through
// window.Console.api (CSRF header); every product or user text is written with textContent.
(function () {
  "use strict";

  const api = (...args) => window.Console.api(...args);
  const toast = (...args) => window.Console.toast(...args);
  const CONFLICT = "这件商品刚被别人修改过";

  function el(tag, options, children) {
    const node = document.createElement(tag);
    const opts = options || {};
    if (opts.text !== undefined) node.textContent = opts.text;
    if (opts.className) node.className = opts.className;
    if (opts.attrs) Object.entries(opts.attrs).forEach(([k, v]) => node.setAttribute(k, v));
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function yuan(price) {
    const exact = Math.round(price * 100) % 100 === 0;
    return "¥" + Number(price).toLocaleString("en-US", {
      minimumFractionDigits: exact ? 0 : 2, maximumFractionDigits: exact ? 0 : 2,
    });
  }

  function jsonData(id, fallback) {
    const node = document.getElementById(id);
    if (!node) return fallback;
    try { return JSON.parse(node.textContent); } catch (e) { return fallback; }
  }

  function splitList(text) {
    return String(text || "").split(/[,，、|；;\n]/).map((s) => s.trim()).filter(Boolean);
  }

  function showError(form, message) {
    const box = form.querySelector(".form-error");
    if (box) { box.textContent = message || ""; box.hidden = !message; }
  }

  // -- the products list: price and stock in the row ----------------------------------------
  function rowChanged(row) {
    return [...row.querySelectorAll(".cell-input")].some((input) => input.value !== input.dataset.original);
  }

  function reloadRow(row) {
    const url = "/console/products/" + encodeURIComponent(row.dataset.sku) + "/row";
    return window.htmx.ajax("GET", url, { target: row, swap: "outerHTML" });
  }

  async function saveRow(row) {
    const button = row.querySelector(".save-row");
    const price = row.querySelector('input[name="price"]');
    const stock = row.querySelector('input[name="stock"]');
    if (!price.checkValidity() || !stock.checkValidity() || price.value === "" || stock.value === "") {
      toast("请填写有效的价格和库存", "error");
      return;
    }
    button.disabled = true;
    button.textContent = "保存中…";
    try {
      const saved = await api("/api/products/" + encodeURIComponent(row.dataset.sku), {
        method: "PATCH",
        json: { price: Number(price.value), stock: parseInt(stock.value, 10), revision: Number(row.dataset.revision) },
      });
      row.dataset.revision = saved.revision;
      price.dataset.original = price.value;
      stock.dataset.original = stock.value;
      row.classList.add("saved");
      setTimeout(() => row.classList.remove("saved"), 1500);
      toast("已保存：" + saved.title + " " + yuan(saved.price) + "，库存 " + saved.stock, "ok");
      button.textContent = "已保存";
    } catch (error) {
      button.textContent = "保存";
      if (error.status === 409) {
        toast(CONFLICT + "，已显示最新的价格和库存", "error");
        await reloadRow(row);
        return;
      }
      button.disabled = false;
      toast(error.message, "error");
    }
  }

  function initProductList(table) {
    table.addEventListener("input", (event) => {
      const row = event.target.closest(".product-row");
      if (!row) return;
      const button = row.querySelector(".save-row");
      button.disabled = !rowChanged(row);
      button.textContent = "保存";
      row.classList.toggle("dirty", rowChanged(row));
    });
    table.addEventListener("click", (event) => {
      const button = event.target.closest(".save-row");
      if (button) saveRow(button.closest(".product-row"));
    });
    table.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing || !event.target.matches(".cell-input")) return;
      event.preventDefault();
      const row = event.target.closest(".product-row");
      if (rowChanged(row)) saveRow(row);
    });
  }

  // -- the product form --------------------------------------------------------------------
  function attributesOf(form, original, originalCategory) {
    const values = {};
    const shown = new Set();
    form.querySelectorAll("[data-attr-key]").forEach((input) => {
      const key = input.dataset.attrKey;
      const raw = input.value.trim();
      shown.add(key);
      if (raw === "") return;
      switch (input.dataset.attrType) {
        case "number": values[key] = Number(raw); break;
        case "bool": values[key] = raw === "true"; break;
        case "list": values[key] = splitList(raw); break;
        default: values[key] = raw;
      }
    });
    // keys outside the category's schema (imported as written) stay while the category does
    if (form.elements.category.value === originalCategory) {
      Object.entries(original || {}).forEach(([key, value]) => {
        if (!shown.has(key)) values[key] = value;
      });
    }
    return values;
  }

  function productPayload(form, mode) {
    const f = form.elements;
    const data = {
      title: f.title.value.trim(),
      brand: f.brand.value.trim(),
      category: f.category.value,
      price: f.price.value === "" ? null : Number(f.price.value),
      stock: f.stock.value === "" ? 0 : parseInt(f.stock.value, 10),
      tags: splitList(f.tags.value),
      description: f.description.value,
      model: f.model.value.trim(),
      series: f.series.value.trim(),
      attributes: attributesOf(form, jsonData("product-attributes", {}), form.dataset.category),
    };
    if (mode === "new") {
      data.sku = f.sku.value.trim();
      if (f.merchant_id && !f.merchant_id.disabled) data.merchant_id = f.merchant_id.value;
      if (!data.model) delete data.model;
      if (!data.series) delete data.series;
    } else {
      data.revision = Number(form.dataset.revision);
    }
    return data;
  }

  function checkProduct(data, mode) {
    if (mode === "new" && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(data.sku)) {
      return "商品编号只能用字母、数字、点和横线，且以字母或数字开头";
    }
    if (!data.title) return "请填写商品名称";
    if (!data.brand) return "请填写品牌";
    if (data.price === null || Number.isNaN(data.price) || data.price < 0) return "请填写有效的价格";
    if (Number.isNaN(data.stock) || data.stock < 0) return "库存应是不小于 0 的整数";
    const bad = Object.entries(data.attributes).find(([, v]) => typeof v === "number" && Number.isNaN(v));
    if (bad) return "属性「" + bad[0] + "」应填数字";
    return "";
  }

  function initProductForm(form) {
    const mode = form.dataset.mode;
    form.dataset.category = form.elements.category.value;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(form, "");
      const data = productPayload(form, mode);
      const problem = checkProduct(data, mode);
      if (problem) { showError(form, problem); return; }
      const button = document.getElementById("save-product");
      button.disabled = true;
      try {
        if (mode === "new") {
          const created = await api("/api/products", { method: "POST", json: data });
          location.href = "/console/products/" + encodeURIComponent(created.sku) + "?saved=created";
          return;
        }
        const saved = await api("/api/products/" + encodeURIComponent(form.dataset.sku), { method: "PATCH", json: data });
        form.dataset.revision = saved.revision;
        form.dataset.category = saved.category;
        const original = document.getElementById("product-attributes");
        if (original) original.textContent = JSON.stringify(saved.attributes);
        toast("已保存，顾客在对话里马上就能看到", "ok");
      } catch (error) {
        if (error.status === 409 && mode !== "new") {
          showError(form, CONFLICT + "。请刷新页面，在最新版本上重新修改。");
          toast(CONFLICT, "error");
        } else {
          showError(form, error.message);
        }
      } finally {
        button.disabled = false;
      }
    });
    if (new URLSearchParams(location.search).get("saved") === "created") {
      toast("商品已创建", "ok");
      history.replaceState(null, "", location.pathname);
    }

    const del = document.getElementById("delete-product");
    const dialog = document.getElementById("delete-dialog");
    if (del && dialog) {
      del.addEventListener("click", () => dialog.showModal());
      dialog.addEventListener("close", async () => {
        if (dialog.returnValue !== "confirm") return;
        try {
          await api("/api/products/" + encodeURIComponent(form.dataset.sku), { method: "DELETE" });
          location.href = "/console/products";
        } catch (error) {
          toast(error.message, "error");
        }
      });
    }
  }

  // -- the product's image: uploaded or removed at once (not with 保存) ---------------------
  function initImageField(form) {
    const input = document.getElementById("image-file");
    if (!input) return; // a new product: saved first, then its image
    const preview = document.getElementById("image-preview");
    const status = document.getElementById("image-status");
    const remove = document.getElementById("remove-image");
    const chooseLabel = input.parentElement.querySelector(".button");
    const path = () => "/api/products/" + encodeURIComponent(form.dataset.sku) + "/image";

    function say(text, isError) {
      status.textContent = text || "";
      status.classList.toggle("error", !!isError);
    }

    function show(saved) {
      form.dataset.revision = saved.revision;
      if (saved.image) {
        const img = el("img", { attrs: { src: saved.image, alt: saved.title } });
        preview.replaceChildren(img);
      } else {
        preview.replaceChildren(el("span", { className: "image-empty", text: "暂无图片" }));
      }
      remove.hidden = !saved.image;
      chooseLabel.textContent = saved.image ? "更换图片" : "上传图片";
    }

    function busy(on) {
      preview.classList.toggle("busy", on);
      input.disabled = on;
      remove.disabled = on;
    }

    async function send(request, done) {
      busy(true);
      say("");
      try {
        show(await request());
        toast(done, "ok");
      } catch (error) {
        say(error.status === 409 ? CONFLICT + "，请刷新页面后再试" : error.message, true);
      } finally {
        busy(false);
      }
    }

    input.addEventListener("change", () => {
      const file = input.files[0];
      input.value = ""; // choosing the same file again still uploads it
      if (!file) return;
      if (file.size > Number(input.dataset.maxBytes)) {
        say("图片太大了：最大 " + Math.round(Number(input.dataset.maxBytes) / 1048576) + " MB", true);
        return;
      }
      const body = new FormData();
      body.append("file", file);
      body.append("revision", form.dataset.revision);
      send(() => api(path(), { method: "POST", body }), "图片已更新，顾客马上就能看到");
    });
    remove.addEventListener("click", () => {
      send(
        () => api(path() + "?revision=" + encodeURIComponent(form.dataset.revision), { method: "DELETE" }),
        "图片已移除",
      );
    });
  }

  // -- relations ---------------------------------------------------------------------------
  function refreshRelations(sku) {
    const url = "/console/products/" + encodeURIComponent(sku) + "/relations";
    return window.htmx.ajax("GET", url, { target: "#relations-list", swap: "outerHTML" });
  }

  function initRelations(form) {
    const sku = form.dataset.sku;
    const picker = form.elements.picker;
    const results = document.getElementById("picker-results");
    const submit = form.querySelector('button[type="submit"]');
    let timer = null;
    let asked = 0;

    function choose(item) {
      form.elements.target.value = item.sku;
      picker.value = item.title;
      results.hidden = true;
      submit.disabled = false;
    }

    async function search() {
      const q = picker.value.trim();
      const mine = ++asked;
      if (!q) { results.hidden = true; return; }
      try {
        const found = await api("/api/products?limit=8&q=" + encodeURIComponent(q));
        if (mine !== asked) return;
        results.replaceChildren();
        const items = found.items.filter((p) => p.sku !== sku);
        if (!items.length) results.appendChild(el("li", { className: "empty", text: "没有找到商品" }));
        items.forEach((p) => {
          const li = el("li", { attrs: { role: "option", tabindex: "-1" } }, [
            el("span", { className: "pick-title", text: p.title }),
            el("span", { className: "pick-meta", text: p.sku + " · " + yuan(p.price) }),
          ]);
          li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(p); });
          li.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); choose(p); } });
          results.appendChild(li);
        });
        results.hidden = false;
      } catch (error) {
        toast(error.message, "error");
      }
    }

    picker.addEventListener("input", () => {
      form.elements.target.value = "";
      submit.disabled = true;
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    picker.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        const first = results.querySelector("li[role=option]");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape") {
        results.hidden = true;
      }
    });
    results.addEventListener("keydown", (event) => {
      const item = event.target.closest("li");
      if (!item) return;
      if (event.key === "ArrowDown" && item.nextElementSibling) { event.preventDefault(); item.nextElementSibling.focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (item.previousElementSibling || picker).focus(); }
    });
    picker.addEventListener("blur", () => setTimeout(() => {
      if (!results.contains(document.activeElement)) results.hidden = true;
    }, 150));

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const target = form.elements.target.value;
      if (!target) return;
      submit.disabled = true;
      try {
        await api("/api/products/" + encodeURIComponent(sku) + "/relations", {
          method: "POST", json: { type: form.elements.type.value, sku: target },
        });
        form.elements.target.value = "";
        picker.value = "";
        await refreshRelations(sku);
        toast("已添加关系", "ok");
      } catch (error) {
        submit.disabled = false;
        toast(error.message, "error");
      }
    });

    document.addEventListener("click", async (event) => {
      const button = event.target.closest(".remove-relation");
      if (!button) return;
      button.disabled = true;
      const path = ["/api/products", sku, "relations", button.dataset.type, button.dataset.sku]
        .map((part, i) => (i === 0 ? part : encodeURIComponent(part))).join("/");
      try {
        await api(path, { method: "DELETE" });
        await refreshRelations(sku);
        toast("已移除关系", "ok");
      } catch (error) {
        button.disabled = false;
        toast(error.message, "error");
      }
    });
  }

  // -- import ------------------------------------------------------------------------------
  const STATUS_NAMES = { created: "新建", updated: "更新", unchanged: "不变", rejected: "有问题" };

  // a row's note in the preview: what an update changes, or how many values were left out
  // (the warnings themselves are listed under 提示)
  function rowNote(r) {
    if (r.status === "updated") return "修改：" + r.changes.map((c) => FIELD_LABELS[c] || c).join("、");
    const warnings = r.warnings || [];
    return warnings.length ? warnings.length + " 项提示，见下方" : "";
  }
  const withoutRow = (text) => String(text).replace(/^第\s*\d+\s*行[：:]\s*/, "");
  const FIELD_LABELS = {
    title: "名称", brand: "品牌", category: "品类", price: "价格", stock: "库存", attributes: "属性",
    tags: "标签", description: "描述", model: "型号", series: "系列", image: "图片", aliases: "别名", rating: "评分",
  };

  function initImport(form) {
    const targets = jsonData("import-targets", []);
    const categories = jsonData("import-categories", []);
    const mappingPanel = document.getElementById("mapping-panel");
    const previewPanel = document.getElementById("preview-panel");
    const donePanel = document.getElementById("done-panel");
    const applyButton = document.getElementById("apply-button");
    const state = { file: null, suggested: null, category: "" };

    function step(n) {
      document.querySelectorAll(".step").forEach((item) => {
        const k = Number(item.dataset.step);
        item.classList.toggle("current", k === n);
        item.classList.toggle("done", k < n);
      });
    }
    step(1);
    const fileInput = form.elements.file;
    fileInput.addEventListener("change", () => {
      const file = fileInput.files[0];
      const name = document.getElementById("file-name");
      name.textContent = file ? file.name + "（" + Math.max(1, Math.round(file.size / 1024)) + " KB）" : "未选择文件";
      fileInput.closest(".file-pick").classList.toggle("chosen", !!file);
    });

    function attributeTargets(category) {
      const chosen = categories.filter((c) => !category || c.name === category);
      const keys = [];
      chosen.forEach((c) => c.attributes.forEach((a) => {
        const label = "属性：" + a.key + (a.unit ? "（" + a.unit + "）" : "") + (category ? "" : " · " + c.name);
        if (!keys.some(([k]) => k === "attributes." + a.key)) keys.push(["attributes." + a.key, label]);
      }));
      return keys;
    }

    function renderMapping(suggested) {
      const rows = document.getElementById("mapping-rows");
      rows.replaceChildren();
      const options = targets.concat(attributeTargets(state.category || suggested.category || ""));
      Object.entries(suggested.columns).forEach(([column, target]) => {
        const wanted = Array.isArray(target) ? target[0] : target;
        const select = el("select", { attrs: { "data-column": column, "aria-label": column + " 导入为" } });
        const known = options.some(([value]) => value === wanted);
        const all = known ? options : options.concat([[wanted, wanted]]);
        all.forEach(([value, label]) => {
          const option = el("option", { text: label, attrs: { value } });
          if (value === wanted) option.selected = true;
          select.appendChild(option);
        });
        const sync = () => select.classList.toggle("ignored", select.value === "ignore");
        select.addEventListener("change", () => { sync(); previewPanel.hidden = true; step(2); });
        sync();
        rows.appendChild(el("tr", {}, [el("td", { className: "column-name", text: column }), el("td", {}, [select])]));
      });
    }

    function mapping() {
      const columns = {};
      document.querySelectorAll("#mapping-rows select").forEach((select) => { columns[select.dataset.column] = select.value; });
      return {
        columns,
        values: (state.suggested && state.suggested.values) || {},
        category: state.category || null,
      };
    }

    function upload(path) {
      const body = new FormData();
      body.append("file", state.file);
      body.append("mapping", JSON.stringify(mapping()));
      return api(path, { method: "POST", body });
    }

    function renderReport(report) {
      Object.entries(report.counts).forEach(([key, value]) => {
        const node = previewPanel.querySelector('[data-count="' + key + '"]');
        if (node) node.textContent = value;
      });
      document.getElementById("preview-summary").textContent = report.summary;
      const rejected = report.rows.filter((r) => r.status === "rejected");
      const rejectedRows = document.getElementById("rejected-rows");
      rejectedRows.replaceChildren(...rejected.map((r) => el("tr", {}, [
        el("td", { text: "第 " + r.row + " 行" }),
        el("td", { text: r.title || "—" }),
        el("td", { className: "bad-text", text: r.reasons.map(withoutRow).join("；") }),
      ])));
      document.getElementById("rejected-block").hidden = !rejected.length;
      const changes = report.rows.filter((r) => r.status === "created" || r.status === "updated").slice(0, 200);
      document.getElementById("change-rows").replaceChildren(...changes.map((r) => el("tr", {}, [
        el("td", { text: String(r.row) }),
        el("td", {}, [el("span", { className: "badge " + (r.status === "created" ? "ok" : "warn"), text: STATUS_NAMES[r.status] })]),
        el("td", { text: r.title || (r.product && r.product.title) || "" }),
        el("td", { text: r.product ? r.product.brand : "" }),
        el("td", { className: "nowrap", text: r.product ? yuan(r.product.price) : "" }),
        el("td", { className: "muted note", text: rowNote(r) }),
      ])));
      document.getElementById("changes-block").hidden = !changes.length;
      const warnings = (report.warnings || []).concat(report.rows.flatMap((r) => r.warnings || []));
      document.getElementById("warning-count").textContent = warnings.length;
      document.getElementById("warning-list").replaceChildren(...warnings.slice(0, 300).map((w) => el("li", { text: w })));
      document.getElementById("warnings-block").hidden = !warnings.length;
      const writable = report.counts.created + report.counts.updated;
      applyButton.disabled = report.counts.rejected > 0 || writable === 0;
      document.getElementById("apply-hint").textContent = report.counts.rejected > 0
        ? "请先修改有问题的行（或调整字段对应）再上传"
        : writable === 0 ? "没有需要写入的变化" : "确认后将一次性写入 " + writable + " 件商品";
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(form, "");
      const file = form.elements.file.files[0];
      if (!file) { showError(form, "请选择要上传的文件"); return; }
      state.file = file;
      state.category = form.elements.category.value;
      mappingPanel.hidden = true;
      previewPanel.hidden = true;
      donePanel.hidden = true;
      step(1);
      const button = document.getElementById("suggest-button");
      button.disabled = true;
      try {
        const body = new FormData();
        body.append("file", file);
        if (state.category) body.append("category", state.category);
        state.suggested = await api("/api/products/import/suggest", { method: "POST", body });
        renderMapping(state.suggested);
        mappingPanel.hidden = false;
        step(2);
        mappingPanel.scrollIntoView({ behavior: "smooth", block: "start" });
      } catch (error) {
        showError(form, error.message);
      } finally {
        button.disabled = false;
      }
    });

    document.getElementById("preview-button").addEventListener("click", async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        renderReport(await upload("/api/products/import?dry_run=true"));
        previewPanel.hidden = false;
        step(3);
        previewPanel.scrollIntoView({ behavior: "smooth", block: "start" });
      } catch (error) {
        toast(error.message, "error");
      } finally {
        button.disabled = false;
      }
    });

    applyButton.addEventListener("click", async () => {
      applyButton.disabled = true;
      try {
        const done = await upload("/api/products/import?dry_run=false");
        document.getElementById("done-summary").textContent = done.summary;
        previewPanel.hidden = true;
        mappingPanel.hidden = true;
        donePanel.hidden = false;
        step(4);
        toast("导入完成", "ok");
      } catch (error) {
        const report = error.body && error.body.report;
        if (report && report.rows) renderReport(report);
        toast(error.message, "error");
      }
    });
  }

  // -- accounts ----------------------------------------------------------------------------
  function initAccounts(form) {
    const role = form.elements.role;
    const merchantField = form.querySelector(".merchant-field");
    const sync = () => { merchantField.hidden = role.value !== "merchant"; };
    role.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(form, "");
      const f = form.elements;
      const data = { username: f.username.value.trim(), password: f.password.value, role: role.value };
      if (role.value === "merchant") data.merchant_id = f.merchant_id.value;
      if (!data.username) { showError(form, "请填写用户名"); return; }
      if (data.password.length < 8) { showError(form, "初始密码至少 8 位"); return; }
      try {
        await api("/api/accounts", { method: "POST", json: data });
        sessionStorage.setItem("console-toast", "已创建账号 " + data.username);
        location.reload();
      } catch (error) {
        showError(form, error.message);
      }
    });

    const dialog = document.getElementById("code-dialog");
    document.addEventListener("click", async (event) => {
      const toggle = event.target.closest(".toggle-account");
      const reset = event.target.closest(".reset-code");
      const row = event.target.closest(".account-row");
      if (!row || (!toggle && !reset)) return;
      const id = row.dataset.id;
      if (toggle) {
        const disable = toggle.dataset.disabled !== "true";
        toggle.disabled = true;
        try {
          await api("/api/accounts/" + id, { method: "PATCH", json: { disabled: disable } });
          sessionStorage.setItem("console-toast", (disable ? "已停用 " : "已启用 ") + row.dataset.username);
          location.reload();
        } catch (error) {
          toggle.disabled = false;
          toast(error.message, "error");
        }
        return;
      }
      reset.disabled = true;
      try {
        const answer = await api("/api/accounts/" + id + "/reset-code", { method: "POST" });
        dialog.querySelector(".code-user").textContent = row.dataset.username;
        dialog.querySelector(".code-hours").textContent = answer.expires_in_hours;
        document.getElementById("reset-code-value").textContent = answer.code;
        dialog.showModal();
      } catch (error) {
        toast(error.message, "error");
      } finally {
        reset.disabled = false;
      }
    });
    document.getElementById("copy-code").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(document.getElementById("reset-code-value").textContent);
        toast("已复制", "ok");
      } catch (e) {
        toast("无法自动复制，请手动选中复制", "error");
      }
    });
    dialog.addEventListener("close", () => { document.getElementById("reset-code-value").textContent = ""; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const pending = sessionStorage.getItem("console-toast");
    if (pending) { sessionStorage.removeItem("console-toast"); toast(pending, "ok"); }
    const table = document.getElementById("products-table");
    if (table) initProductList(table);
    const productForm = document.getElementById("product-form");
    if (productForm) initProductForm(productForm);
    if (productForm) initImageField(productForm);
    const relationForm = document.getElementById("relation-form");
    if (relationForm) initRelations(relationForm);
    const importForm = document.getElementById("import-form");
    if (importForm) initImport(importForm);
    const accountForm = document.getElementById("account-form");
    if (accountForm) initAccounts(accountForm);
  });
})();
