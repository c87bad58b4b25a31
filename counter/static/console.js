/* Counter console: buttons and keyboard shortcuts send verbs over Socket.IO (acked). */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("console-config").textContent);
  const M = cfg.messages;
  const $ = function (id) { return document.getElementById(id); };
  const FACTS = [
    "ticket_issued", "ticket_called", "ticket_no_show", "ticket_started", "ticket_finished",
    "ticket_transferred", "ticket_cancelled", "counter_changed", "board_changed",
  ];

  let state = null; // last counter_state snapshot
  let myPrefixes = [];
  let busy = false;
  let refreshTimer = null;

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, k) {
      return values[k] === undefined || values[k] === null ? "" : String(values[k]);
    });
  }

  function minutesBetween(a, b) {
    if (!a || !b) return null;
    return Math.max(0, Math.floor((Date.parse(b) - Date.parse(a)) / 60000));
  }

  function say(text, kind) {
    const el = $("message");
    el.textContent = text || "";
    el.dataset.kind = kind || "info";
  }

  function render() {
    if (!state) return;
    const cur = state.current;
    const counter = state.counter;
    myPrefixes = counter.areas.map(function (a) { return a.prefix; });
    const card = $("ticket-card");
    card.dataset.status = cur ? cur.status : "none";
    $("cur-code").textContent = cur ? cur.code : "—";
    $("cur-status").textContent = cur
      ? (cur.status === "serving" ? M.status_serving : M.status_called)
      : M.status_none;
    $("cur-area").textContent = cur ? cur.area_name : "—";
    $("cur-priority").textContent = cur && cur.priority_label ? cur.priority_label : "—";
    const waited = cur ? minutesBetween(cur.issued_at, cur.called_at) : null;
    $("cur-wait").textContent = waited === null ? "—" : fmt(M.minutes, { n: waited });
    $("cur-from").textContent = cur && cur.transferred_from ? cur.transferred_from : "—";
    if (!cur) $("dossier").value = "";
    else if (cur.dossier_code && !$("dossier").value) $("dossier").value = cur.dossier_code;

    $("paused-marker").hidden = !counter.paused;
    document.body.classList.toggle("is-paused", counter.paused);
    $("pause-btn").firstChild.textContent = (counter.paused ? M.resume : M.pause) + " ";

    const can = {
      call_next: !cur && !counter.paused,
      call_ticket: !cur && !counter.paused,
      recall: !!cur && cur.status === "called",
      no_show: !!cur && cur.status === "called",
      start: !!cur && cur.status === "called",
      finish: !!cur,
      transfer: !!cur,
      pause: true,
    };
    document.querySelectorAll(".act").forEach(function (b) {
      b.disabled = busy || !can[b.dataset.verb];
    });

    const waiting = state.waiting;
    $("q-count").textContent = String(waiting.length);
    const longest = waiting.reduce(function (m, t) { return Math.max(m, t.waited_minutes); }, -1);
    $("q-longest").textContent = longest < 0 ? "—" : fmt(M.minutes, { n: longest });
    const perArea = {};
    waiting.forEach(function (t) { perArea[t.area] = (perArea[t.area] || 0) + 1; });
    const counts = $("area-counts");
    counts.replaceChildren();
    counter.areas.forEach(function (a) {
      const li = document.createElement("li");
      li.innerHTML = "<b></b> <span></span> <strong></strong>";
      li.children[0].textContent = a.prefix;
      li.children[1].textContent = a.name;
      li.children[2].textContent = String(perArea[a.name] || 0);
      counts.appendChild(li);
    });
    const body = $("queue-body");
    body.replaceChildren();
    if (!waiting.length) {
      const tr = document.createElement("tr");
      tr.innerHTML = '<td colspan="4" class="empty"></td>';
      tr.firstChild.textContent = M.empty_queue;
      body.appendChild(tr);
    }
    waiting.forEach(function (t) {
      const tr = document.createElement("tr");
      if (t.priority) tr.className = "priority";
      tr.innerHTML = '<td class="code"></td><td></td><td></td><td><button class="btn small"></button></td>';
      tr.children[0].textContent = t.code;
      tr.children[1].textContent = t.priority_label ? t.area + " · " + t.priority_label : t.area;
      tr.children[2].textContent = fmt(M.minutes, { n: t.waited_minutes });
      const b = tr.querySelector("button");
      b.textContent = M.call;
      b.disabled = busy || !can.call_ticket;
      b.addEventListener("click", function () { send("call_ticket", { code: t.code }); });
      body.appendChild(tr);
    });
  }

  function success(verb, ack) {
    const t = ack.ticket || {};
    switch (verb) {
      case "call_next":
      case "call_ticket":
        return fmt(M.called, { code: t.code, counter: cfg.counter });
      case "recall": return fmt(M.recalled, { code: t.code });
      case "no_show":
        return fmt(t.status === "waiting" ? M.no_show_requeued : M.no_show, { code: t.code });
      case "start": return fmt(M.started, { code: t.code });
      case "finish": return fmt(M.finished, { code: t.code });
      case "transfer": return fmt(M.transferred, {
        code: t.code,
        area: t.area_name + (ack.to_counter ? " – " + fmt(M.counter_short, { n: ack.to_counter }) : ""),
      });
      case "pause": return ack.paused ? M.paused : M.resumed;
      default: return "";
    }
  }

  function send(verb, data) {
    if (busy) return Promise.resolve(null);
    busy = true;
    render();
    return conn.request(verb, data).then(function (ack) {
      busy = false;
      if (ack.ok) {
        if (verb === "transfer") ack.to_counter = data.to_counter;
        say(success(verb, ack), "ok");
        if (verb === "finish") {
          $("dossier").value = "";
          $("dossier").blur(); // the letter shortcuts work again at once
        }
      } else {
        say(ack.message || ack.error, "error");
      }
      conn.refresh();
      render();
      return ack;
    });
  }

  function openTransfer() {
    if (!state || !state.current) return;
    $("transfer-code").textContent = state.current.code;
    $("transfer-area").value = "";
    $("transfer-counter").value = "";
    $("transfer-note").value = "";
    $("transfer-dialog").showModal();
  }

  $("transfer-dialog").addEventListener("close", function () {
    if ($("transfer-dialog").returnValue !== "ok") return;
    const area = $("transfer-area").value;
    const counter = $("transfer-counter").value;
    if (!area && !counter) {
      say(M.transfer_target, "error");
      return;
    }
    send("transfer", {
      to_service: area || null,
      to_counter: counter ? Number(counter) : null,
      note: $("transfer-note").value,
    });
  });

  function callGiven() {
    const code = $("call-code").value.trim().toUpperCase();
    if (!code) {
      say(M.code_required, "error");
      $("call-code").focus();
      return;
    }
    send("call_ticket", { code: code }).then(function (ack) {
      if (ack && ack.ok) $("call-code").value = "";
    });
  }

  const actions = {
    call_next: function () { send("call_next"); },
    recall: function () { send("recall"); },
    no_show: function () { send("no_show"); },
    start: function () { send("start"); },
    finish: function () { send("finish", { dossier_code: $("dossier").value.trim() || null }); },
    transfer: openTransfer,
    call_ticket: function () {
      if ($("call-code").value.trim()) callGiven();
      else $("call-code").focus();
    },
    pause: function () { send("pause", { paused: !(state && state.counter.paused) }); },
  };

  document.querySelectorAll(".act").forEach(function (b) {
    b.addEventListener("click", function () { actions[b.dataset.verb](); });
  });
  $("call-form").addEventListener("submit", function (e) { e.preventDefault(); callGiven(); });
  $("dossier").addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      if (!document.querySelector('[data-verb="finish"]').disabled) actions.finish();
    }
  });

  // Shortcuts: the letter alone when not typing, Alt+letter anywhere; Esc leaves a field.
  const byKey = {};
  document.querySelectorAll(".act").forEach(function (b) { byKey[b.dataset.key] = b; });
  document.addEventListener("keydown", function (e) {
    if ($("transfer-dialog").open) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
    if (e.key === "Escape" && typing) { e.target.blur(); return; }
    if (e.ctrlKey || e.metaKey || (typing && !e.altKey)) return;
    const button = byKey[e.key.toLowerCase()] || (e.code && byKey[e.code.replace("Key", "").toLowerCase()]);
    if (!button) return;
    e.preventDefault();
    if (!button.disabled) button.click();
  });

  function relevant(name, p) {
    if (name === "board_changed" || name === "ticket_transferred") return true;
    if (name === "counter_changed") return p.counter === cfg.counter;
    if (p.counter === cfg.counter) return true;
    const t = p.ticket;
    return !!t && myPrefixes.indexOf(t.area_prefix) >= 0;
  }

  const conn = MotcuaLive.connect({
    namespace: "/counter",
    auth: { counter_id: cfg.counter_id },
    events: FACTS,
    marker: $("offline"),
    messages: { offline: M.offline, timeout: M.timeout },
    onSnapshot: function (snapshot) {
      state = snapshot;
      render();
    },
    onEvent: function (name, payload) {
      if (!relevant(name, payload)) return;
      // This counter's own facts: redraw at once; the queue moving elsewhere can wait a
      // moment (spread, so that thirty consoles do not all re-read at the same instant).
      const mine = payload.counter === cfg.counter;
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () { conn.refresh(); },
        mine ? 50 : 300 + Math.random() * 700);
    },
    onStatus: function () { render(); },
    onRefused: function (error) {
      if (error.error === "unauthorized") {
        window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
        return;
      }
      say(fmt(M.refused, { reason: error.message || error.error }), "error");
    },
  });

  // Minutes waited change with time: redraw every 30 s.
  setInterval(function () { if (state) conn.refresh(); }, 30000);
  window.motcuaConsole = { conn: conn, get state() { return state; } };
})();
