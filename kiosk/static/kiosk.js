/* The citizen kiosk: pick an area (or the priority path), get a number, see it printed. */
"use strict";

(function () {
  const root = document.getElementById("kiosk");
  const data = JSON.parse(document.getElementById("kiosk-data").textContent);
  const T = data.texts;
  const L = window.KioskCommon;
  const kioskName = root.dataset.kiosk || null;
  const stateUrl = root.dataset.stateUrl;
  const issueUrl = root.dataset.issueUrl;
  const checkInUrl = root.dataset.checkInUrl;
  // The citizen's language (the language button): "vi" unless this interaction chose English.
  const lang = root.dataset.lang || "vi";
  const DEFAULT_LANG = "vi";

  let state = data.state;
  let busy = false; // a request is in flight: every ticket button is disabled
  let priority = null; // chosen priority category, or null
  let pending = null; // {service, priority, key}: resent as is after a network failure
  let current = null; // the ticket on screen
  let idleTimer = null;
  let idleLeft = 0;
  let printPoll = null;
  const printFacts = {}; // ticket uuid → latest print_status fact (it may beat the HTTP answer)

  const $ = (id) => document.getElementById(id);

  /** A server address in this page's language: ?lang= while the citizen is not in Vietnamese. */
  function withLang(url, code) {
    const u = new URL(url, window.location.href);
    const want = code || lang;
    if (want === DEFAULT_LANG) u.searchParams.delete("lang");
    else u.searchParams.set("lang", want);
    return u.pathname + u.search;
  }

  /** "one" for 1, "other" otherwise (Vietnamese has one form, English two). */
  function plural(forms, n) {
    return L.fmt(Number(n) === 1 ? forms.one : forms.other, { n: n });
  }

  const screens = [
    "screen-home",
    "screen-priority",
    "screen-appointment",
    "screen-ticket",
    "screen-message",
  ];

  function show(id) {
    screens.forEach((s) => {
      $(s).hidden = s !== id;
    });
    root.dataset.screen = id;
    // The language is chosen before a number is taken: its ticket is printed in it.
    $("k-lang").hidden = id === "screen-ticket";
    // A citizen is using the kiosk: a settings reload (live.js) waits until it is back home.
    document.documentElement.dataset.liveBusy =
      id === "screen-home" || id === "screen-message" ? "" : "1";
  }

  let busyNotice = null;
  function setBusy(on) {
    busy = on;
    root.querySelectorAll(".k-area, .k-cat, .k-prio-entry").forEach((b) => {
      b.disabled = on;
    });
    // "Đang lấy số…" only when the answer is slow: a flash on every tap would distract.
    clearTimeout(busyNotice);
    if (on) busyNotice = setTimeout(() => ($("busy").hidden = false), 300);
    else $("busy").hidden = true;
  }

  // ------------------------------------------------------------------ start screen

  function renderState(next) {
    state = next;
    const byCode = {};
    (state.services || []).forEach((s) => {
      byCode[s.code] = s;
    });
    root.querySelectorAll(".k-area").forEach((btn) => {
      const s = byCode[btn.dataset.service];
      if (!s) {
        btn.hidden = true;
        return;
      }
      btn.hidden = false;
      btn.querySelector("[data-waiting]").textContent = s.waiting;
      btn.querySelector("[data-waiting-unit]").textContent = plural(T.people, s.waiting);
      btn.querySelector("[data-eta]").textContent = s.waiting
        ? L.waitText(T.eta, T.eta_short, s)
        : T.no_wait;
    });
    const onHome = root.dataset.screen === "screen-home" || root.dataset.screen === "screen-message";
    if (!state.open) {
      if (root.dataset.screen !== "screen-ticket") {
        showMessage(T.closed_title, state.closed_message, { hours: true });
      }
    } else if (onHome && root.dataset.reason === "closed") {
      goHome();
    }
  }

  async function refreshState() {
    try {
      const r = await L.fetchJSON(stateUrl, {}, 6000);
      if (r.ok && r.body) {
        renderState(r.body);
        if (root.dataset.reason === "offline" && state.open) {
          goHome();
        }
      }
    } catch (e) {
      if (root.dataset.screen === "screen-home" && !busy) {
        showMessage(T.offline_title, T.offline_text, { retry: true, reason: "offline" });
      }
    }
  }

  let refreshSoon = null;
  function scheduleRefresh() {
    clearTimeout(refreshSoon);
    refreshSoon = setTimeout(() => live.refresh(), 300);
  }

  function goHome() {
    stopIdle();
    stopPrintPoll();
    priority = null;
    current = null;
    pending = null;
    Object.keys(printFacts).forEach((k) => delete printFacts[k]);
    root.dataset.reason = "";
    $("prio-banner").hidden = true;
    $("home-prompt").hidden = false;
    if ($("prio-entry")) $("prio-entry").hidden = false;
    if (!state.open) {
      showMessage(T.closed_title, state.closed_message, { hours: true });
      return;
    }
    show("screen-home");
    // In another language the start screen too goes back to Vietnamese when left alone.
    if (lang !== DEFAULT_LANG) startIdle(state.idle_timeout_s || 30, endInteraction, true);
  }

  /** The citizen is done (or gone): the next one starts in Vietnamese. */
  function endInteraction() {
    if (lang === DEFAULT_LANG) return goHome();
    switchLanguage(DEFAULT_LANG);
  }

  /** Reload the kiosk in another language, once the server answers (never a browser error
   * page on a kiosk): while it does not, stay as we are and try again after the next idle. */
  async function switchLanguage(code) {
    stopIdle();
    try {
      const r = await L.fetchJSON(withLang(stateUrl, code), {}, 6000);
      if (r.ok) {
        window.location.replace(withLang(root.dataset.pageUrl, code));
        return;
      }
    } catch (e) {
      /* unreachable: fall through */
    }
    goHome();
    if (lang !== DEFAULT_LANG) startIdle(state.idle_timeout_s || 30, endInteraction, true);
  }

  function showMessage(title, text, opts) {
    opts = opts || {};
    $("m-title").textContent = title;
    $("m-text").textContent = text || "";
    $("m-hours").textContent = opts.hours && state.hours_text ? T.hours + ": " + state.hours_text : "";
    $("m-retry").hidden = !opts.retry;
    $("m-normal").hidden = !opts.normal;
    if (opts.normal) {
      $("m-normal").dataset.normalService = opts.normal.service;
      $("m-normal").textContent = L.fmt(T.appt_normal, { name: opts.normal.name });
    }
    $("m-home").hidden = !opts.home;
    root.dataset.reason = opts.reason || (opts.hours ? "closed" : "error");
    show("screen-message");
    if (opts.home) startIdle(state.idle_timeout_s || 30, endInteraction);
    else if (lang !== DEFAULT_LANG) startIdle(state.idle_timeout_s || 30, endInteraction, true);
  }

  // ------------------------------------------------------------------ priority path

  function choosePriority(code, label) {
    priority = code;
    $("prio-banner-label").textContent = label;
    $("prio-banner").hidden = false;
    $("home-prompt").hidden = true;
    if ($("prio-entry")) $("prio-entry").hidden = true;
    show("screen-home");
    startIdle(state.idle_timeout_s || 30, endInteraction, true);
  }

  // ------------------------------------------------------------------ appointment check-in

  function openCheckIn() {
    $("appt-code").value = "";
    show("screen-appointment");
    // A USB 2D scanner types the code and Enter into the focused field.
    $("appt-code").focus();
    startIdle(state.idle_timeout_s || 30, endInteraction, true);
  }

  async function checkIn() {
    const code = $("appt-code").value.trim();
    if (busy) return;
    if (!code) {
      $("appt-code").focus();
      return;
    }
    setBusy(true);
    stopIdle();
    try {
      const r = await L.fetchJSON(
        withLang(checkInUrl),
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ code: code, kiosk: kioskName }),
        },
        10000,
      );
      if (r.ok && r.body && r.body.ticket) {
        showTicket(r.body);
      } else if (r.status >= 500) {
        showMessage(T.appt_title, T.server_error_text, { home: true, reason: "error" });
      } else {
        const d = (r.body && r.body.details) || {};
        showMessage(T.appt_title, (r.body && r.body.message) || T.refused_text, {
          home: true,
          reason: "appointment",
          normal: d.service ? { service: d.service, name: d.area_name || d.service } : null,
        });
      }
    } catch (e) {
      showMessage(T.offline_title, T.offline_text, { home: true, reason: "offline" });
    } finally {
      setBusy(false);
    }
  }

  $("appt-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    checkIn();
  });

  // ------------------------------------------------------------------ taking a number

  async function take(service) {
    if (busy) return; // a double tap: the first one is already on its way
    pending = { service: service, priority: priority, key: L.newKey() };
    await send();
  }

  async function send() {
    if (!pending) return;
    setBusy(true);
    stopIdle();
    try {
      const r = await L.fetchJSON(
        withLang(issueUrl),
        {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": pending.key },
          body: JSON.stringify({
            service: pending.service,
            priority: pending.priority,
            kiosk: kioskName,
          }),
        },
        10000,
      );
      if (r.ok && r.body && r.body.ticket) {
        pending = null;
        showTicket(r.body);
      } else if (r.body && r.body.error === "outside_working_hours") {
        pending = null;
        state.open = false;
        state.closed_message = r.body.message;
        showMessage(T.closed_title, r.body.message, { hours: true });
      } else if (r.status >= 500 || r.status === 429 || r.status === 409) {
        // The server failed or is busy: "Thử lại" resends the same tap (same key: one ticket).
        showMessage(T.error_title, T.server_error_text, { retry: true, home: true, reason: "error" });
      } else {
        pending = null;
        showMessage(T.error_title, (r.body && r.body.message) || T.refused_text, { home: true });
      }
    } catch (e) {
      // Unreachable: keep `pending` so "Thử lại" resends the same key (still one ticket).
      showMessage(T.offline_title, T.offline_text, { retry: true, home: true, reason: "offline" });
    } finally {
      setBusy(false);
    }
  }

  function showTicket(body) {
    const t = body.ticket;
    current = {
      token: t.token,
      uuid: t.uuid,
      code: t.code,
      reprintUntil: Date.parse(body.reprint_until),
      reprintsLeft: body.reprints_left,
    };
    $("t-code").textContent = t.code;
    $("t-priority").hidden = !t.priority_label;
    $("t-priority").textContent = t.priority_label ? L.fmt(T.priority, { label: t.priority_label }) : "";
    $("t-area").textContent = t.area_name;
    $("t-counters").textContent = (t.serving_counters || []).length
      ? L.fmt(T.counters, {
          list: t.serving_counters.join(", "),
        })
      : "";
    const ahead = t.people_ahead || 0;
    $("t-ahead").textContent = ahead
      ? plural(T.ahead, ahead) + ", " + L.waitText(T.ahead_eta, T.ahead_eta_short, t)
      : T.ahead_none;
    $("t-qr").innerHTML = body.qr_svg; // server-built SVG of the status URL
    show("screen-ticket");
    const fact = printFacts[t.uuid];
    renderPrint(fact || body.print);
    startIdle(state.idle_timeout_s || 30, endInteraction);
    scheduleRefresh();
  }

  function renderPrint(p) {
    if (!current) return;
    const box = $("t-print");
    const st = (p && p.state) || "printing";
    box.className = "k-print k-print-" + st;
    if (st === "printed") {
      box.textContent = T.printed;
    } else if (st === "sent") {
      box.textContent = T.sent; // issue 15: the printer cannot confirm, so say no more
    } else if (st === "failed") {
      box.innerHTML = "";
      const head = document.createElement("strong");
      // Job messages are stored in Vietnamese: another language shows its words for the code.
      const reason = (T.print_errors || {})[p.error_code] || p.message;
      head.textContent = T.failed + (reason ? ": " + reason : "");
      const help = document.createElement("span");
      // "staff were told" only when the server says an alert reached them (issue 15)
      help.textContent = p.staff_told ? T.failed_help : T.failed_help_ask;
      box.append(head, help);
    } else if (st === "off") {
      box.textContent = T.off;
    } else {
      box.textContent = p && p.job === "reprint" ? T.reprinting : T.printing;
    }
    current.printState = st;
    const canReprint =
      st !== "printing" && st !== "off" && current.reprintsLeft > 0 && Date.now() < current.reprintUntil;
    $("t-reprint").hidden = !canReprint;
    if (st === "printing") startPrintPoll();
    else stopPrintPoll();
  }

  // Polling fallback for the print outcome when the socket is down (or its fact was missed).
  function startPrintPoll() {
    if (printPoll) return;
    let tries = 0;
    printPoll = setInterval(async () => {
      tries += 1;
      if (!current || tries > 30) return stopPrintPoll();
      if (live.isLive() && tries < 3) return; // give the socket fact a moment first
      try {
        const r = await L.fetchJSON(
          withLang(issueUrl + "/" + encodeURIComponent(current.token) + "/print"),
        );
        if (r.ok && current) renderPrint(r.body);
      } catch (e) {
        /* keep trying */
      }
    }, 1000);
  }

  function stopPrintPoll() {
    clearInterval(printPoll);
    printPoll = null;
  }

  async function reprint() {
    if (!current || busy) return;
    const token = current.token;
    $("t-reprint").disabled = true;
    try {
      const r = await L.fetchJSON(
        withLang(issueUrl + "/" + encodeURIComponent(token) + "/reprint"),
        {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": L.newKey() },
          body: JSON.stringify({ kiosk: kioskName }),
        },
        8000,
      );
      if (current && current.token === token) {
        if (r.ok) {
          current.reprintsLeft = r.body.reprints_left;
          delete printFacts[current.uuid];
          renderPrint(r.body.print);
        } else {
          current.reprintsLeft = 0;
          renderPrint({ state: "failed", message: r.body && r.body.message });
        }
      }
    } catch (e) {
      /* the number is on screen; nothing is lost */
    } finally {
      $("t-reprint").disabled = false;
      startIdle(state.idle_timeout_s || 30, endInteraction);
    }
  }

  // ------------------------------------------------------------------ idle timeout

  let idleRestart = null; // restarts the running countdown (a touch means someone is there)

  function startIdle(seconds, then, silent) {
    stopIdle();
    idleLeft = seconds;
    const tick = () => {
      $("t-countdown").textContent = silent ? "" : plural(T.countdown, idleLeft);
      if (idleLeft <= 0) {
        stopIdle();
        then();
        return;
      }
      idleLeft -= 1;
    };
    tick();
    idleTimer = setInterval(tick, 1000);
    idleRestart = () => startIdle(seconds, then, silent);
  }

  function stopIdle() {
    if (idleTimer) clearInterval(idleTimer);
    idleTimer = null;
    idleRestart = null;
    $("t-countdown").textContent = "";
  }

  // ------------------------------------------------------------------ wiring

  root.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button");
    if (!btn || btn.disabled) return;
    if (btn.dataset.service) return void take(btn.dataset.service);
    if (btn.dataset.priority) return void choosePriority(btn.dataset.priority, btn.textContent.trim());
    if (btn.dataset.key) {
      $("appt-code").value = ($("appt-code").value + btn.dataset.key).slice(0, 16);
      return;
    }
    const action = btn.dataset.action;
    if (action === "priority") {
      show("screen-priority");
      startIdle(state.idle_timeout_s || 30, endInteraction, true);
    } else if (action === "cancel-priority" || action === "home") {
      goHome();
    } else if (action === "done") {
      endInteraction();
    } else if (action === "lang") {
      if (!busy) switchLanguage(btn.dataset.lang);
    } else if (action === "retry") {
      if (pending) send();
      else refreshState().then(() => state.open && goHome());
    } else if (action === "reprint") {
      reprint();
    } else if (action === "appointment") {
      openCheckIn();
    } else if (action === "appt-erase") {
      $("appt-code").value = $("appt-code").value.slice(0, -1);
    } else if (action === "normal") {
      priority = null;
      take(btn.dataset.normalService);
    }
  });

  // Any touch on a waiting screen restarts its idle countdown.
  root.addEventListener("pointerdown", () => {
    if (idleRestart && !busy) idleRestart();
  });

  function tickClock() {
    const now = new Date();
    const opts = { timeZone: "Asia/Ho_Chi_Minh" };
    const locale = lang === "en" ? "en-GB" : "vi-VN";
    $("k-time").textContent = now.toLocaleTimeString(locale, Object.assign({ hour: "2-digit", minute: "2-digit" }, opts));
    $("k-date").textContent = now.toLocaleDateString(locale, Object.assign({ weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" }, opts));
  }
  tickClock();
  setInterval(tickClock, 1000);

  const live = L.follow({
    namespace: "/kiosk",
    auth: { kiosk: kioskName, lang: lang },
    pollMs: 15000,
    poll: refreshState,
    onStatus: (on) => {
      $("k-link").className = "k-link " + (on ? "k-link-live" : "k-link-poll");
    },
    onSnapshot: (snapshot) => renderState(snapshot),
    events: {
      print_status: (fact) => {
        // Site rooms never carry tokens (motcua.realtime): match the ticket by its uuid.
        const uuid = fact.ticket && fact.ticket.uuid;
        if (!uuid) return;
        printFacts[uuid] = fact;
        if (current && current.uuid === uuid) renderPrint(fact);
      },
      // Waiting counts and estimates change with these: fetch a fresh snapshot (debounced).
      ticket_issued: scheduleRefresh,
      ticket_called: scheduleRefresh,
      ticket_started: scheduleRefresh,
      ticket_finished: scheduleRefresh,
      ticket_no_show: scheduleRefresh,
      ticket_transferred: scheduleRefresh,
      ticket_cancelled: scheduleRefresh,
      counter_changed: scheduleRefresh,
      board_changed: scheduleRefresh,
      // A rating changes nothing here, but every fact carries the site's seq: unheard, each
      // one would look like a lost fact and cost a re-read.
      ticket_rated: () => {},
    },
  });
  // Opening and closing times pass even when nothing happens in the hall.
  setInterval(refreshState, 60000);

  root.dataset.screen = state.open ? "screen-home" : "screen-message";
  root.dataset.reason = state.open ? "" : "closed";
  if (lang !== DEFAULT_LANG) startIdle(state.idle_timeout_s || 30, endInteraction, true);
  window.motcuaKiosk = { take: take, goHome: goHome, refresh: refreshState };
})();
