/* The counter's rating tablet: idle (officer at the counter) → question → (reasons) → thanks.
 *
 * Live over /rating with the shared MotcuaLive (snapshot on every (re)connect, seq-checked
 * facts). The server's snapshot says which finished ticket waits for a rating ("pending"), so a
 * tablet that reconnects, or reloads, asks again. Unanswered: the "skip" verb records the
 * ticket as unrated, never as a score.
 */
"use strict";

(function () {
  const R = window.MotcuaRating;
  const data = JSON.parse(document.getElementById("rating-data").textContent);
  const S = data.settings;
  const M = data.messages;
  const STORE = "motcua.rating.counter";
  const $ = (id) => document.getElementById(id);
  const root = $("rt");

  let scale = data.scale;
  let counterId = null;
  let current = null; // {uuid, code, area_name}: the ticket being rated
  let chosen = null; // the level picked, while on the reasons screen
  let screenTimer = null;
  let sending = false;
  let conn = null;
  let snapshot = null;
  let getReasons = function () { return []; };

  // ------------------------------------------------------------------ set-up
  function counterFromDevice() {
    if (S.counter) return S.counter;
    if (S.setup) return null;
    const stored = window.localStorage && window.localStorage.getItem(STORE);
    return stored && /^\d+$/.test(stored) ? Number(stored) : null;
  }

  document.querySelectorAll(".rt-setup-counter").forEach(function (button) {
    button.addEventListener("click", function () {
      const number = button.dataset.counter;
      try { window.localStorage.setItem(STORE, number); } catch (e) { /* private mode */ }
      const params = new URLSearchParams(window.location.search);
      params.delete("setup");
      params.set("counter", number);
      window.location.replace(window.location.pathname + "?" + params.toString());
    });
  });

  // ------------------------------------------------------------------ screens
  function show(screen) {
    root.dataset.screen = screen;
    // A settings change reloads idle screens only (live.js): never one being answered.
    document.documentElement.dataset.liveBusy = screen === "idle" || screen === "setup" ? "0" : "1";
    $("message").textContent = "";
    if (screenTimer) window.clearTimeout(screenTimer);
    screenTimer = null;
    const timing = (snapshot && snapshot.timing) || S.timing;
    if (screen === "ask") armTimer(timing.question_s, onQuestionTimeout);
    // Walking away from the reasons saves nothing: a low level counts only once "Gửi đánh
    // giá" is pressed (a mis-tap must never be recorded against the officer).
    if (screen === "reasons") armTimer(timing.question_s, onQuestionTimeout);
    if (screen === "thanks") armTimer(timing.thanks_s, function () { idle(); });
  }

  function armTimer(seconds, fn) {
    if (screenTimer) window.clearTimeout(screenTimer);
    screenTimer = window.setTimeout(fn, Math.max(1, seconds) * 1000);
    root.dataset.timerS = String(seconds);
  }

  // Any touch while the citizen is answering gives them the full time again.
  document.addEventListener("pointerdown", function () {
    const screen = root.dataset.screen;
    const timing = (snapshot && snapshot.timing) || S.timing;
    if (screen === "ask") armTimer(timing.question_s, onQuestionTimeout);
    if (screen === "reasons") armTimer(timing.question_s, onQuestionTimeout);
  }, true);

  function initials(name) {
    const parts = String(name || "").trim().split(/\s+/);
    if (!parts[0]) return "";
    const last = parts[parts.length - 1];
    return (parts.length > 1 ? parts[0][0] : "") + last[0];
  }

  function drawPhoto(box, officer) {
    box.textContent = "";
    if (officer && officer.photo) {
      const img = document.createElement("img");
      img.src = officer.photo;
      img.alt = "";
      box.appendChild(img);
    } else {
      box.textContent = officer ? initials(officer.full_name) : "";
    }
    box.classList.toggle("rt-photo-empty", !officer);
  }

  function renderIdle(state) {
    $("hall-name").textContent = state.site.name;
    $("hall-unit").textContent = state.site.unit_name || "";
    $("counter-badge").hidden = false;
    $("counter-badge").textContent = R.fmt(M.counter, { n: String(state.counter.number) });
    $("counter-areas").textContent = state.counter.areas.join(" · ");
    const officer = state.officer;
    drawPhoto($("officer-photo"), officer);
    drawPhoto($("ask-photo"), officer);
    $("officer-name").textContent = officer ? officer.full_name : M.officer_none;
    $("officer-position").textContent = officer ? officer.position || "" : "";
    $("officer-unit").textContent = officer ? officer.unit || "" : "";
    $("ask-officer").textContent = officer ? officer.full_name : "";
    $("ask-position").textContent = officer ? officer.position || "" : "";
    $("ask-photo").hidden = !officer;
  }

  function idle() {
    current = null;
    chosen = null;
    show("idle");
  }

  function ask(ticket) {
    current = { uuid: ticket.uuid, code: ticket.code, area_name: ticket.area_name };
    chosen = null;
    $("ask-code").textContent = ticket.code;
    R.levelButtons($("levels"), scale, pick);
    root.dataset.ticket = ticket.uuid;
    show("ask");
  }

  function pick(level) {
    if (sending) return;
    if (level.low && scale.reasons.length) {
      chosen = level;
      $("chosen").innerHTML = R.face(level.mood, level.color);
      const label = document.createElement("span");
      label.textContent = level.label;
      $("chosen").appendChild(label);
      getReasons = R.reasonButtons($("reasons"), scale.reasons);
      $("comment").value = "";
      show("reasons");
      return;
    }
    send(level);
  }

  function thanks(otherSource) {
    const best = scale.levels[0];
    $("thanks-face").innerHTML = R.face(1, best.color);
    $("thanks-title").textContent = M.thanks;
    $("thanks-detail").textContent = otherSource ? M.thanks_other : M.thanks_detail;
    current = null;
    chosen = null;
    show("thanks");
  }

  async function send(level) {
    if (!current || !level || sending) return;
    sending = true;
    root.classList.add("is-sending");
    const body = { ticket: current.uuid, level: level.score };
    if (root.dataset.screen === "reasons") {
      body.reasons = getReasons();
      const comment = $("comment").value.trim();
      if (comment) body.comment = comment;
    }
    const ack = await conn.request("rate", body);
    sending = false;
    root.classList.remove("is-sending");
    if (ack.ok) thanks(false);
    else if (ack.error === "already_rated") thanks(true);
    else if (ack.error === "rating_closed" || ack.error === "ticket_not_found") idle();
    else $("message").textContent = ack.message || M.error;
  }

  $("send").addEventListener("click", function () { send(chosen); });
  $("reasons-back").addEventListener("click", function () {
    chosen = null;
    show("ask");
  });

  async function skip(ticket, reason) {
    if (!ticket) return;
    await conn.request("skip", { ticket: ticket.uuid, reason: reason });
  }

  function onQuestionTimeout() {
    const ticket = current;
    idle();
    skip(ticket, "timeout");
  }

  // ------------------------------------------------------------------ live
  function onSnapshot(state) {
    snapshot = state;
    counterId = state.counter.id;
    scale = state.scale || scale;
    renderIdle(state);
    const screen = root.dataset.screen;
    const answering = screen === "ask" || screen === "reasons";
    if (state.pending) {
      if (!(answering && current && current.uuid === state.pending.uuid) && screen !== "thanks") {
        ask(state.pending);
      }
    } else if (answering || screen === "setup") {
      idle();
    }
  }

  function onEvent(name, payload) {
    if (name === "ticket_finished" && payload.counter_id === counterId && payload.ticket) {
      if (current && current.uuid !== payload.ticket.uuid) skip(current, "replaced");
      ask(payload.ticket);
      return;
    }
    if (name === "ticket_rated" && current && payload.ticket &&
        payload.ticket.uuid === current.uuid && payload.source !== "tablet") {
      thanks(true);
      return;
    }
    const mine = payload.counter === (snapshot && snapshot.counter.number);
    if ((name === "ticket_called" || name === "counter_changed") && mine) {
      // A call or a pause says who sits at the counter now ("officer"; a recall does not
      // change it): re-read the officer's card only when someone else took the seat.
      const seated = snapshot.officer ? snapshot.officer.id : null;
      if ("officer" in payload && payload.officer !== seated) conn.refresh();
    }
  }

  const number = counterFromDevice();
  if (!number) {
    show("setup");
    return;
  }
  if (!S.counter) {
    // Chosen on this device earlier: open the bound address so the server checks the counter.
    const params = new URLSearchParams(window.location.search);
    params.set("counter", String(number));
    window.location.replace(window.location.pathname + "?" + params.toString());
    return;
  }
  try { window.localStorage.setItem(STORE, String(number)); } catch (e) { /* private mode */ }
  show("idle");
  conn = window.MotcuaLive.connect({
    namespace: "/rating",
    auth: { counter: number, site: S.site || undefined },
    events: [
      "ticket_issued", "ticket_called", "ticket_no_show", "ticket_started", "ticket_finished",
      "ticket_transferred", "ticket_cancelled", "counter_changed", "board_changed",
      "print_status", "ticket_rated",
    ],
    onSnapshot: onSnapshot,
    onEvent: onEvent,
    marker: $("offline"),
    messages: { offline: M.offline, timeout: M.timeout },
    onRefused: function (err) {
      $("message").textContent = R.fmt(M.refused, { reason: err.message || err.error });
    },
  });
  // A change nobody announces (an officer's name or photo edited in the admin pages) shows
  // within a minute: an idle tablet re-reads its state once a minute, as consoles do.
  setInterval(function () {
    if (root.dataset.screen === "idle") conn.refresh();
  }, 60000);
  window.motcuaTablet = {
    get conn() { return conn; },
    get timing() { return (snapshot && snapshot.timing) || S.timing; },
  };
})();
