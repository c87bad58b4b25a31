/* Counter console: buttons and keyboard shortcuts send verbs over Socket.IO (acked). */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("console-config").textContent);
  const M = cfg.messages;
  const $ = function (id) { return document.getElementById(id); };
  // Every fact that carries the site's seq: all are heard, so that a lost one shows as a gap.
  const FACTS = [
    "ticket_issued", "ticket_called", "ticket_no_show", "ticket_started", "ticket_finished",
    "ticket_transferred", "ticket_cancelled", "counter_changed", "board_changed",
    "ticket_rated", "print_status",
  ];

  let state = null; // the last counter_state snapshot, with the facts since folded in
  let busy = false;
  let serverOffsetMs = 0; // server clock minus this machine's clock
  const syncs = []; // reasons of the snapshots applied, for supervision and tests

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, k) {
      return values[k] === undefined || values[k] === null ? "" : String(values[k]);
    });
  }

  function minutesBetween(a, b) {
    if (!a || !b) return null;
    return Math.max(0, Math.floor((Date.parse(b) - Date.parse(a)) / 60000));
  }

  function waitedMinutes(issuedAt) {
    return Math.max(0, Math.floor((Date.now() + serverOffsetMs - Date.parse(issuedAt)) / 60000));
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
    const card = $("ticket-card");
    card.dataset.status = cur ? cur.status : "none";
    $("cur-code").textContent = cur ? cur.code : "";
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

    renderPrintAlerts(); // issue 15
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
    const oldest = waiting.reduce(function (m, t) {
      return Math.min(m, Date.parse(t.issued_at));
    }, Infinity);
    $("q-longest").textContent = oldest === Infinity
      ? "—" : fmt(M.minutes, { n: waitedMinutes(new Date(oldest).toISOString()) });
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
      tr.children[2].textContent = fmt(M.minutes, { n: waitedMinutes(t.issued_at) });
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
        // The verb's fact reaches this socket before its ack: if the ack is newer than the
        // state on screen, that fact was lost on the way. Re-read.
        if (typeof ack.seq === "number" && conn.seq !== null && ack.seq > conn.seq) {
          conn.refresh();
        }
      } else {
        say(ack.message || ack.error, "error");
        conn.refresh(); // refused: the screen may be behind the server (busy, paused, taken)
      }
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
    if (state && state.current) {
      say(fmt(M.finish_first, { code: state.current.code }), "error");
      return;
    }
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

  // ------------------------------------------------------------------ keys and the scanner
  // A barcode scanner types a whole code in a burst (keys a few ms apart) and ends it with
  // Enter. Such a burst goes to the dossier box, wherever the focus is, and none of its
  // letters is a shortcut. A bare letter is a shortcut only when the focus is on no input
  // and no other key follows it at once (it waits SHORTCUT_WAIT_MS to know); Alt+letter
  // works everywhere; Esc leaves a field.
  const SCAN_GAP_MS = 70; // keys closer than this belong to one burst
  const SCAN_MIN_CHARS = 6; // shorter bursts are typing (a ticket number is 4 characters)
  const SHORTCUT_WAIT_MS = 90;
  const byKey = {};
  document.querySelectorAll(".act").forEach(function (b) { byKey[b.dataset.key] = b; });
  let burst = null; // {text, last, target, before}: the keys of a possible scan
  let pendingShortcut = null;

  function isField(el) {
    return !!el && (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable);
  }

  function keyButton(e) {
    return byKey[e.key.toLowerCase()] ||
      (e.code && byKey[e.code.replace("Key", "").toLowerCase()]) || null;
  }

  function runShortcut(button) {
    if (!button.disabled) {
      button.click();
      return;
    }
    if (button.dataset.verb === "call_ticket") {
      // "Gọi số…" while a ticket is at the counter: the number typed next goes to its box,
      // never to the page (where "B" of "B001" would start service).
      $("call-code").focus();
      say(fmt(M.finish_first, { code: state && state.current ? state.current.code : "" }), "error");
      return;
    }
    say(fmt(M.key_unavailable, { key: button.dataset.key.toUpperCase() }), "info");
  }

  function cancelShortcut() {
    if (pendingShortcut) clearTimeout(pendingShortcut);
    pendingShortcut = null;
  }

  function takeScan(b) {
    // The field that had the focus gets back what it held before the burst.
    if (isField(b.target) && b.target !== $("dossier") && "value" in b.target) {
      b.target.value = b.before;
    }
    const code = b.text.trim();
    if (!state || !state.current) {
      say(fmt(M.scan_no_ticket, { code: code }), "error");
      return;
    }
    $("dossier").value = code;
    $("dossier").focus();
    say(fmt(M.scanned, { code: code }), "ok");
  }

  document.addEventListener("keydown", function (e) {
    if ($("transfer-dialog").open) return;
    // When the key came in, not when this handler runs: a page busy rendering a call must not
    // split a scanner's burst into keys that look typed by hand (and fire shortcuts).
    const now = e.timeStamp || performance.now();
    const typing = isField(e.target);
    const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
    if (plain && e.key === "Enter" && burst && now - burst.last <= SCAN_GAP_MS * 2 &&
        burst.text.length >= SCAN_MIN_CHARS) {
      e.preventDefault();
      e.stopImmediatePropagation();
      const scanned = burst;
      burst = null;
      takeScan(scanned);
      return;
    }
    if (plain && e.key.length === 1) {
      if (burst && now - burst.last <= SCAN_GAP_MS) {
        burst.text += e.key;
        burst.last = now;
        cancelShortcut(); // the letter before was the start of a scan, not a command
        if (!typing) e.preventDefault();
        return;
      }
      burst = { text: e.key, last: now, target: e.target, before: typing ? e.target.value : "" };
      if (typing) return;
      e.preventDefault();
      const button = keyButton(e);
      cancelShortcut();
      if (button) {
        pendingShortcut = setTimeout(function () {
          pendingShortcut = null;
          runShortcut(button);
        }, SHORTCUT_WAIT_MS);
      }
      return;
    }
    burst = null;
    if (e.key === "Escape" && typing) { e.target.blur(); return; }
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const button = keyButton(e);
    if (!button) return;
    e.preventDefault();
    runShortcut(button);
  }, true);

  // ------------------------------------------------------------------ folding facts
  // Facts arrive exactly once and in seq order after a snapshot (live.js): the console applies
  // them to the state it holds instead of re-reading it. The same rules, in Python, are
  // counter/console_fold.py (the tests and the benchmark use it): keep the two in step.

  function queueKey(row) {
    return [state.priority_first && row.priority ? 0 : 1, Date.parse(row.queued_at),
      row.id === null || row.id === undefined ? Infinity : row.id];
  }

  function after(a, b) { // does queue key a come after b?
    for (let i = 0; i < a.length; i += 1) {
      if (a[i] !== b[i]) return a[i] > b[i];
    }
    return false;
  }

  function serves(t, queue) {
    const target = queue ? queue.counter : null;
    if (target !== null && target !== undefined) return target === cfg.counter;
    return state.counter.areas.some(function (a) { return a.prefix === t.area_prefix; });
  }

  function removeWaiting(code) {
    state.waiting = state.waiting.filter(function (r) { return r.code !== code; });
  }

  function addWaiting(t, queue) {
    removeWaiting(t.code);
    const row = {
      id: queue ? queue.id : null, // a new ticket: after every one queued so far
      code: t.code, area: t.area_name, area_prefix: t.area_prefix,
      priority: t.priority, priority_label: t.priority_label,
      issued_at: t.issued_at, queued_at: queue ? queue.at : t.issued_at,
    };
    const key = queueKey(row);
    let at = state.waiting.length;
    while (at > 0 && after(queueKey(state.waiting[at - 1]), key)) at -= 1;
    state.waiting.splice(at, 0, row);
  }

  function fold(name, p) {
    const t = p.ticket;
    const mine = p.counter === cfg.counter;
    switch (name) {
      case "board_changed":
        conn.refresh(); // a change with no detail (tickets expired, a walk-in): read it all
        return;
      case "ticket_issued":
        if (serves(t, null)) addWaiting(t, null);
        break;
      case "ticket_called":
        if (!p.recall) removeWaiting(t.code);
        if (mine) state.current = t;
        break;
      case "ticket_started":
        if (mine) state.current = t;
        break;
      case "ticket_finished":
        if (mine) state.current = null;
        break;
      case "ticket_no_show":
        if (mine) state.current = null;
        if (t.status === "waiting" && serves(t, p.queue)) addWaiting(t, p.queue);
        break;
      case "ticket_transferred":
        if (mine) state.current = null;
        if (serves(t, p.queue)) addWaiting(t, p.queue);
        break;
      case "ticket_cancelled":
        removeWaiting(t.code);
        if (mine) state.current = null;
        break;
      case "counter_changed":
        if (mine) state.counter.paused = !!p.paused;
        break;
      case "print_status":
        foldPrintAlerts(p); // issue 15
        break;
      default:
        return; // ticket_rated: nothing here; its seq keeps the chain whole
    }
    render();
  }

  // ------------------------------------------------------------------ print alerts (issue 15)
  // Unprinted tickets of this counter's areas: the snapshot's print_alerts, then print_status
  // facts (alert_opened, alerts_closed). A banner until the ticket prints or an officer marks
  // it handled (audited). Same rules as counter/console_fold.py _fold_print_alerts.
  const PA = JSON.parse(document.getElementById("print-alert-text").textContent);

  function foldPrintAlerts(p) {
    const closed = p.alerts_closed || [];
    let alerts = (state.print_alerts || []).filter(function (a) { return closed.indexOf(a.id) < 0; });
    const opened = p.alert_opened;
    const mineArea = opened && state.counter.areas.some(function (a) {
      return a.prefix === opened.ticket.area_prefix;
    });
    if (mineArea) {
      alerts = alerts.filter(function (a) { return a.id !== opened.id; }).concat([opened]);
    }
    state.print_alerts = alerts;
  }

  function renderPrintAlerts() {
    const alerts = state.print_alerts || [];
    const box = $("print-alerts");
    box.hidden = !alerts.length;
    document.body.classList.toggle("has-print-alerts", alerts.length > 0);
    const list = $("print-alert-list");
    list.replaceChildren();
    alerts.forEach(function (a) {
      const li = document.createElement("li");
      li.dataset.alert = a.id;
      const text = document.createElement("span");
      text.textContent = fmt(PA.line, {
        code: a.ticket.code, kiosk: a.kiosk || PA.default_kiosk, time: a.at_local, reason: a.message,
      });
      const b = document.createElement("button");
      b.className = "btn small";
      b.textContent = PA.dismiss;
      b.addEventListener("click", function () {
        b.disabled = true;
        conn.request("dismiss_print_alert", { id: a.id }).then(function (ack) {
          if (ack.ok) say(fmt(PA.dismissed, { code: a.ticket.code }), "ok");
          else { say(ack.message || ack.error, "error"); b.disabled = false; }
        });
      });
      li.append(text, b);
      list.appendChild(li);
    });
  }
  // ------------------------------------------------------------------ end print alerts

  const conn = MotcuaLive.connect({
    namespace: "/counter",
    auth: { counter_id: cfg.counter_id },
    events: FACTS,
    marker: $("offline"),
    messages: { offline: M.offline, timeout: M.timeout },
    onSnapshot: function (snapshot, reason) {
      syncs.push(reason);
      state = snapshot;
      if (snapshot.generated_at) serverOffsetMs = Date.parse(snapshot.generated_at) - Date.now();
      render();
    },
    onEvent: function (name, payload) {
      if (state) fold(name, payload);
    },
    onStatus: function () { render(); },
    onRefused: function (error) {
      if (error.error === "unauthorized") {
        window.location.href = (document.documentElement.dataset.root || "") + "/login?next=" + encodeURIComponent(window.location.pathname);
        return;
      }
      say(fmt(M.refused, { reason: error.message || error.error }), "error");
    },
  });

  // Minutes waited change with time: redraw every 30 s. A safety net re-reads the state once a
  // minute, the first time 30-60 s after the page opened (spread over the hall's consoles).
  setInterval(render, 30000);
  setTimeout(function () {
    conn.refresh();
    setInterval(function () { conn.refresh(); }, 60000);
  }, 30000 + Math.random() * 30000);
  window.motcuaConsole = { conn: conn, syncs: syncs, get state() { return state; } };
})();
