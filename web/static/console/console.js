// The consoles' shared behaviour: every state-changing request made with the session cookie
// carries the CSRF token (the readable csrf_token cookie, sent as X-CSRF-Token), for htmx and
// for fetch alike; login, logout, password change and a small toast.
(function () {
  "use strict";

  function cookie(name) {
    const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  // fetch with the CSRF header and JSON in and out; rejects with the API's Chinese message.
  async function api(path, options) {
    const opts = Object.assign({ method: "GET", headers: {} }, options || {});
    opts.headers = Object.assign({ "X-CSRF-Token": cookie("csrf_token") }, opts.headers);
    if (opts.json !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
      delete opts.json;
    }
    opts.credentials = "same-origin";
    const response = await fetch(path, opts);
    if (response.status === 401 && !path.startsWith("/api/auth/login")) {
      location.href = "/console/login?next=" + encodeURIComponent(location.pathname);
      throw new Error("请先登录");
    }
    const type = response.headers.get("content-type") || "";
    // 204 (a DELETE) has no body, whatever its content type says.
    const body = response.status === 204 ? null
      : type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      const message = (body && body.error && body.error.message) || "操作失败（" + response.status + "）";
      const error = new Error(message);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  let toastTimer = null;
  function toast(text, kind) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text; // text only: never markup from data
    box.className = "toast" + (kind ? " " + kind : "");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
  }

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = cookie("csrf_token");
  });
  document.addEventListener("htmx:responseError", (event) => {
    let message = "操作失败，请稍后再试";
    try { message = JSON.parse(event.detail.xhr.responseText).error.message || message; } catch (e) { /* keep */ }
    if (event.detail.xhr.status === 401) location.href = "/console/login?next=" + encodeURIComponent(location.pathname);
    toast(message, "error");
  });

  function formJson(form) {
    const data = {};
    new FormData(form).forEach((value, key) => { data[key] = value; });
    return data;
  }

  function showError(form, message) {
    const box = form.querySelector(".form-error");
    if (box) { box.textContent = message; box.hidden = !message; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const login = document.getElementById("login-form");
    if (login) {
      login.addEventListener("submit", async (event) => {
        event.preventDefault();
        showError(login, "");
        const data = formJson(login);
        if (!data.username || !data.password) { showError(login, "请输入用户名和密码"); return; }
        try {
          await api("/api/auth/login", { method: "POST", json: data });
          location.href = login.dataset.next || "/console";
        } catch (error) {
          showError(login, error.message);
        }
      });
    }
    const password = document.getElementById("password-form");
    if (password) {
      password.addEventListener("submit", async (event) => {
        event.preventDefault();
        showError(password, "");
        try {
          await api("/api/auth/password", { method: "POST", json: formJson(password) });
          password.reset();
          toast("密码已修改", "ok");
        } catch (error) {
          showError(password, error.message);
        }
      });
    }
    document.querySelectorAll("[data-logout]").forEach((button) => {
      button.addEventListener("click", async () => {
        try { await api("/api/auth/logout", { method: "POST" }); } catch (e) { /* signed out anyway */ }
        location.href = "/console/login";
      });
    });
  });

  window.Console = { api, toast, cookie };
})();
