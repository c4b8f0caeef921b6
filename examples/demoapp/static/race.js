// The race panel: tab B's slow request and tab A's log out, run from one
// page. Both requests carry the same cookie, as two tabs of one browser do.
"use strict";
(function () {
  const run = document.getElementById("race-run");
  if (!run) return;
  const log = document.getElementById("race-log");
  const result = document.getElementById("race-result");
  let t0 = 0;

  // step adds a row to the timeline, in tab "a" or "b"'s column.
  function step(tab, text, cls) {
    const li = document.createElement("li");
    li.className = "row " + tab + (cls ? " " + cls : "");
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = ((performance.now() - t0) / 1000).toFixed(2) + " s";
    const msg = document.createElement("span");
    msg.className = "msg";
    msg.textContent = text;
    li.append(t, msg);
    log.append(li);
  }

  // lines reads a stream of JSON lines, one object per call of next().
  function lines(body) {
    const reader = body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    return async function next() {
      for (;;) {
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return JSON.parse(line);
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the slow request ended early");
        buf += dec.decode(value, { stream: true });
      }
    };
  }

  function token() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // reload loads the home page as the server now renders it and puts its
  // parts marked data-session (the menu, the header's session, the session
  // card, the counter) in place of this page's, so that nothing outside the
  // panel still shows the session the race ended. It returns the user the
  // fresh page shows, "" when logged out.
  async function reload() {
    const html = await fetch("/").then((r) => r.text());
    const fresh = new DOMParser().parseFromString(html, "text/html");
    for (const part of document.querySelectorAll("[data-session]")) {
      const twin = fresh.getElementById(part.id);
      if (twin) part.replaceWith(document.adoptNode(twin));
    }
    document.body.dataset.user = fresh.body.dataset.user;
    document.body.dataset.handle = fresh.body.dataset.handle;
    return fresh.body.dataset.user;
  }

  function verdict(write, user) {
    const pass = write.outcome === "refused" && !user;
    result.className = "result " + (pass ? "pass" : "fail");
    result.dataset.outcome = write.outcome;
    result.dataset.after = user ? "logged-in" : "logged-out";
    result.innerHTML = "";
    const head = document.createElement("strong");
    head.textContent = pass ? "The logout stuck." : "Unexpected: the slow write was " + write.outcome + ".";
    const body = document.createElement("span");
    body.textContent = pass
      ? "Tab B's Commit returned ErrInvalidated, so the handler could tell the truth, and the session stays ended. Log in again to rerun."
      : (write.error || "") + (user ? " You are logged in as " + user + "." : "");
    result.append(head, body);
    result.hidden = false;
  }

  async function race() {
    run.disabled = true;
    log.innerHTML = "";
    result.hidden = true;
    document.getElementById("race-timeline").hidden = false;
    t0 = performance.now();
    const hold = token();
    step("b", "POST /slow starts");
    const slow = await fetch("/slow?hold=" + hold, { method: "POST" });
    const next = lines(slow.body);
    const read = await next();
    step("b", "reads the session: " + read.user + ", session " + read.handle + "; waits before writing");
    const out = await fetch("/logout", { method: "POST", headers: { Accept: "application/json" } }).then((r) => r.json());
    step("a", "POST /logout: session " + out.handle + " " + out.outcome, out.outcome === "destroyed" ? "good" : "refused");
    await fetch("/release", { method: "POST", body: new URLSearchParams({ token: hold }) });
    const write = await next();
    step("b", write.outcome === "refused"
      ? "writes slow_done: refused, Commit returned ErrInvalidated"
      : "writes slow_done: " + write.outcome, write.outcome === "refused" ? "refused" : "");
    const user = await reload();
    step("a", user ? "reload: still logged in as " + user : "reload: logged out", user ? "refused" : "good");
    verdict(write, user);
  }

  run.addEventListener("click", () => {
    race().catch((err) => {
      result.className = "result fail";
      result.dataset.outcome = "error";
      result.textContent = "The race could not run: " + err.message;
      result.hidden = false;
    });
  });
})();
