// The passkeys example (/examples/passkeys.html): what a front end of authd
// calls, in what order. Served from the server's own origin, so every call
// below is a same-origin fetch; the access token is kept in this page's
// memory only.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let accessToken = null;

  function show(text, isError) {
    const out = $("status");
    out.textContent = text;
    out.className = isError ? "error" : "";
  }

  function loggedIn(body, how) {
    accessToken = body.access_token;
    const amr = JSON.parse(atob(body.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).amr;
    $("session").textContent = "Logged in as " + body.user.email + " (" + how + ", amr " +
      amr.join(",") + ").";
    $("session").dataset.email = body.user.email;
    $("session").dataset.amr = amr.join(",");
  }

  // One JSON call: the parsed body, or an Error carrying the problem's code.
  async function call(method, path, body, token) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    const response = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error((data && data.code) + ": " + (data && data.detail));
      error.code = data && data.code;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function guarded(action) {
    return async function () {
      try {
        await action();
      } catch (e) {
        show(e.message || String(e), true);
      }
    };
  }

  async function createAccount() {
    await call("POST", "/auth/register", { email: $("email").value, password: $("password").value });
    show("Account created. Log in with the password, then add a passkey.");
  }

  async function passwordLogin() {
    const body = await call("POST", "/auth/login", { email: $("email").value, password: $("password").value });
    loggedIn(body, "password");
    show("Logged in with the password.");
  }

  // Registration: options (the password again), the browser makes the
  // credential, the server verifies and stores it.
  async function addPasskey() {
    if (!accessToken) throw new Error("Log in first (step 1).");
    const options = await call("POST", "/auth/passkeys/register/options",
      { password: $("password").value }, accessToken);
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
    const credential = await navigator.credentials.create({ publicKey: publicKey });
    const passkey = await call("POST", "/auth/passkeys/register",
      { credential: credential.toJSON(), name: $("passkey-name").value }, accessToken);
    show("Passkey \"" + passkey.name + "\" added (id " + passkey.id + ").");
    await listPasskeys();
  }

  async function listPasskeys() {
    if (!accessToken) throw new Error("Log in first (step 1).");
    const list = await call("GET", "/auth/passkeys", undefined, accessToken);
    const ul = $("passkeys");
    ul.textContent = "";
    for (const p of list.passkeys) {
      const li = document.createElement("li");
      li.textContent = p.name + " (added " + p.created_at + ", last used " +
        (p.last_used_at || "never") + (p.backed_up ? ", synced" : "") + ")";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.addEventListener("click", guarded(async function () {
        await call("DELETE", "/auth/passkeys/" + encodeURIComponent(p.id), undefined, accessToken);
        show("Passkey \"" + p.name + "\" removed.");
        await listPasskeys();
      }));
      li.appendChild(remove);
      ul.appendChild(li);
    }
    ul.dataset.count = String(list.passkeys.length);
  }

  // Passwordless login: options that name no account, the browser signs with
  // a discoverable credential, the server answers the login body.
  async function passkeyLogin() {
    const options = await call("POST", "/auth/passkeys/login/options", {});
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey);
    const credential = await navigator.credentials.get({ publicKey: publicKey });
    const body = await call("POST", "/auth/passkeys/login", { credential: credential.toJSON() });
    loggedIn(body, "passkey");
    show("Logged in with a passkey.");
  }

  async function logout() {
    if (accessToken) await call("POST", "/auth/logout", undefined, accessToken);
    accessToken = null;
    $("session").textContent = "Not logged in.";
    delete $("session").dataset.email;
    delete $("session").dataset.amr;
    show("Logged out.");
  }

  $("register").addEventListener("click", guarded(createAccount));
  $("login").addEventListener("click", guarded(passwordLogin));
  $("add-passkey").addEventListener("click", guarded(addPasskey));
  $("list-passkeys").addEventListener("click", guarded(listPasskeys));
  $("passkey-login").addEventListener("click", guarded(passkeyLogin));
  $("logout").addEventListener("click", guarded(logout));
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
    show("This browser has no WebAuthn JSON helpers (parseCreationOptionsFromJSON): use a " +
      "current Chromium, Firefox or Safari, on https:// or http://localhost.", true);
  }
})();
