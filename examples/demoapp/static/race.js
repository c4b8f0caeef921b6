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

  // showState makes the header and the session card show the session as
  // the server reported it after the race.
  function showState(state, ended) {
    if (state.user) return;
    document.body.dataset.user = "";
    document.body.dataset.handle = state.handle;
    document.getElementById("who-label").remove();
    const user = document.getElementById("user");
    const plain = document.createElement("span");
    plain.id = "user";
    plain.textContent = "logged out";
    user.replaceWith(plain);
    document.getElementById("handle").textContent = state.handle || "none";
    document.querySelector(".who .dot").classList.remove("on");
    const card = document.getElementById("session-card");
    card.innerHTML = '<h2>This tab\'s session</h2><p class="big">Logged out.</p>' +
      '<p class="muted">The race ended session <code class="handle"></code> for good. <a href="/">Reload</a> to log in again.</p>';
    card.querySelector("code").textContent = ended;
  }

  function verdict(write, state) {
    const pass = write.outcome === "refused" && !state.user;
    result.className = "result " + (pass ? "pass" : "fail");
    result.dataset.outcome = write.outcome;
    result.dataset.after = state.user ? "logged-in" : "logged-out";
    result.innerHTML = "";
    const head = document.createElement("strong");
    head.textContent = pass ? "The logout stuck." : "Unexpected: the slow write was " + write.outcome + ".";
    const body = document.createElement("span");
    body.textContent = pass
      ? "Tab B's Commit returned ErrInvalidated, so the handler could tell the truth, and the session stays ended. Log in again to rerun."
      : (write.error || "") + (state.user ? " You are logged in as " + state.user + "." : "");
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
    const state = await fetch("/api/state").then((r) => r.json());
    step("a", state.user ? "reload: still logged in as " + state.user : "reload: logged out", state.user ? "refused" : "good");
    showState(state, read.handle);
    verdict(write, state);
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
