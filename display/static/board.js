/* Lobby board: live calls, waiting counts, clock, and queued Vietnamese announcements. */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("board-config").textContent);
  const S = cfg.settings;
  const M = cfg.messages;
  const $ = function (id) { return document.getElementById(id); };
  // Every fact that carries the site's seq (print_status and ticket_rated change nothing here,
  // but unheard they would leave a gap and a re-read of the board after every printed ticket).
  const FACTS = [
    "ticket_issued", "ticket_called", "ticket_no_show", "ticket_started", "ticket_finished",
    "ticket_transferred", "ticket_cancelled", "counter_changed", "board_changed",
    "ticket_rated", "print_status",
  ];
  const wantCounters = S.filter.counters;
  const wantAreas = S.filter.areas.map(function (a) { return a.toUpperCase(); });

  let calls = []; // newest first: {code, counter, area, at, recall}
  const HISTORY = 40; // calls kept: enough for the recent list once repeats are left out
  let areas = [];
  let serverOffsetMs = 0; // server clock minus this machine's clock
  let flashTimer = null;
  const seen = new Set();

  function callKey(c) { return c.code + "|" + c.counter + "|" + Date.parse(c.at); }

  function wanted(counter, areaCode, areaPrefix) {
    if (wantCounters.length && wantCounters.indexOf(counter) < 0) return false;
    if (wantAreas.length && wantAreas.indexOf(String(areaCode).toUpperCase()) < 0 &&
        wantAreas.indexOf(String(areaPrefix).toUpperCase()) < 0) return false;
    return true;
  }

  // ------------------------------------------------------------------ rendering

  // Keep an area's short parts on one line ("Tư pháp – Hộ tịch" never breaks as "Hộ / tịch").
  function keepWords(name) {
    return String(name).split(/\s+[–-]\s+/).map(function (part) {
      return part.split(/\s+/).length <= 2 ? part.replace(/\s+/g, "\u00a0") : part;
    }).join("\u00a0– ");
  }

  // The recent list names each ticket once, at its latest call, and never the one on the
  // big panel: a recall, a no-show called again or a transfer does not repeat a number.
  function recentRows() {
    const shown = new Set(calls.length ? [calls[0].code] : []);
    const rows = [];
    calls.slice(1).forEach(function (c) {
      if (shown.has(c.code) || rows.length >= S.recent_calls) return;
      shown.add(c.code);
      rows.push(c);
    });
    return rows;
  }

  function renderCalls() {
    const latest = calls[0];
    $("now-code").textContent = latest ? latest.code : "";
    $("now-counter").textContent = latest ? String(latest.counter) : "";
    $("now-area").textContent = latest ? keepWords(latest.area) : M.idle;
    $("now-recall").hidden = !(latest && latest.recall);
    $("now").classList.toggle("recall", !!(latest && latest.recall));
    $("now").classList.toggle("empty", !latest);
    const list = $("recent");
    list.replaceChildren();
    recentRows().forEach(function (c) {
      const li = document.createElement("li");
      li.innerHTML = '<span class="r-code"></span><span class="r-counter"></span>';
      li.children[0].textContent = c.code;
      li.children[1].textContent = String(c.counter);
      if (c.recall) li.classList.add("recall");
      list.appendChild(li);
    });
  }

  function sizeTiles() {
    const list = $("waiting");
    const columns = getComputedStyle(list).gridTemplateColumns.split(" ").length || 1;
    list.dataset.rows = String(Math.ceil(areas.length / columns));
  }
  window.addEventListener("resize", sizeTiles);

  function renderAreas() {
    const list = $("waiting");
    list.replaceChildren();
    areas.forEach(function (a) {
      const li = document.createElement("li");
      li.innerHTML = '<span class="w-prefix"></span><span class="w-name"></span><span class="w-count"></span>';
      li.children[0].textContent = a.prefix;
      li.children[1].textContent = keepWords(a.name);
      li.children[2].textContent = String(a.waiting);
      li.dataset.area = a.code;
      if (!a.waiting) li.classList.add("none");
      list.appendChild(li);
    });
    sizeTiles();
  }

  function flash() {
    const now = $("now");
    now.classList.remove("flash");
    void now.offsetWidth; // restart the animation
    now.classList.add("flash");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { now.classList.remove("flash"); }, S.flash_seconds * 1000);
  }

  // ------------------------------------------------------------------ clock

  const clockFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: S.timezone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", weekday: "short",
  });
  const WEEKDAY_INDEX = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

  function tick() {
    const parts = {};
    clockFormat.formatToParts(new Date(Date.now() + serverOffsetMs)).forEach(function (p) {
      parts[p.type] = p.value;
    });
    $("clock-time").textContent = parts.hour + ":" + parts.minute + ":" + parts.second;
    $("clock-date").textContent =
      cfg.weekdays[WEEKDAY_INDEX[parts.weekday]] + ", " + parts.day + "/" + parts.month + "/" + parts.year;
  }

  // ------------------------------------------------------------------ voice

  const announced = []; // for supervision and tests: what started, from which source
  const queue = [];
  let speaking = false;
  let unblock = null;

  function waitForGesture() {
    $("sound-notice").hidden = false;
    return new Promise(function (resolve) { unblock = resolve; });
  }
  function gesture() {
    $("sound-notice").hidden = true;
    if (unblock) { const u = unblock; unblock = null; u(); }
  }
  document.addEventListener("click", gesture);
  document.addEventListener("keydown", gesture);

  function playUrl(url) {
    return new Promise(function (resolve, reject) {
      const audio = new Audio(url);
      let guard = setTimeout(function () { finish(true); }, 60000);
      function finish(ok, err) {
        clearTimeout(guard);
        audio.onended = audio.onerror = null;
        if (ok) resolve(); else reject(err || new Error("audio failed"));
      }
      audio.onended = function () { finish(true); };
      audio.onerror = function () { finish(false); };
      audio.onloadedmetadata = function () {
        // Never let a stuck sink block the queue: give up a little after the clip's length.
        clearTimeout(guard);
        guard = setTimeout(function () { finish(true); }, (audio.duration + 3) * 1000);
      };
      audio.play().catch(function (err) { finish(false, err); });
    });
  }

  function vietnameseVoice() {
    if (!("speechSynthesis" in window)) return null;
    const voices = window.speechSynthesis.getVoices();
    return voices.find(function (v) { return /^vi([-_]|$)/i.test(v.lang); }) || null;
  }

  function speakOnce(text, voiceObj) {
    return new Promise(function (resolve, reject) {
      const u = new SpeechSynthesisUtterance(text);
      u.voice = voiceObj;
      u.lang = voiceObj.lang || S.voice.lang;
      u.rate = 0.9;
      const guard = setTimeout(resolve, 30000);
      u.onend = function () { clearTimeout(guard); resolve(); };
      u.onerror = function (e) { clearTimeout(guard); reject(e.error || e); };
      window.speechSynthesis.speak(u);
    });
  }

  function pause(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  async function speakWithBrowser(text, repeat, chimeUrl) {
    const v = vietnameseVoice();
    if (!v) throw new Error("no vi-VN voice");
    if (chimeUrl) await playUrl(chimeUrl);
    for (let i = 0; i < repeat; i += 1) {
      if (i) await pause(700);
      await speakOnce(text, v);
    }
  }

  async function announce(job) {
    let info;
    try {
      const r = await fetch(cfg.announce_url + encodeURIComponent(job.code) + "/" + job.counter);
      if (!r.ok) throw new Error("HTTP " + r.status);
      info = await r.json();
    } catch (err) {
      announced.push({ code: job.code, counter: job.counter, source: null, error: String(err) });
      return;
    }
    for (const source of S.voice.sources) {
      const entry = { code: job.code, counter: job.counter, source: source, text: info.text,
                      started: Date.now(), ended: null };
      try {
        if (source === "browser") {
          if (!vietnameseVoice()) continue;
          announced.push(entry);
          await speakWithBrowser(info.text, info.repeat, info.chime);
        } else {
          if (!info.audio[source]) continue;
          announced.push(entry);
          await playUrl(info.audio[source]);
        }
        entry.ended = Date.now();
        return;
      } catch (err) {
        entry.error = String(err && err.name ? err.name : err);
        if (err && err.name === "NotAllowedError") {
          // Autoplay blocked (no --autoplay-policy flag, no tap yet): wait, then retry the call.
          announced.splice(announced.indexOf(entry), 1);
          await waitForGesture();
          return announce(job);
        }
      }
    }
  }

  async function pump() {
    if (speaking) return;
    speaking = true;
    while (queue.length) {
      const job = queue[0];
      await announce(job);
      queue.shift();
    }
    speaking = false;
  }

  const requested = []; // every call put in the queue, in order

  function enqueue(code, counter) {
    // Calls are queued, never cut off; the same call twice in the queue is said once.
    const dup = queue.slice(1).some(function (j) { return j.code === code && j.counter === counter; });
    if (!dup) {
      queue.push({ code: code, counter: counter });
      requested.push({ code: code, counter: counter });
    }
    pump();
  }

  // ------------------------------------------------------------------ live

  const syncs = []; // reasons of the snapshots applied, for supervision and tests

  function applySnapshot(snap, reason) {
    syncs.push(reason);
    if (snap.generated_at) serverOffsetMs = Date.parse(snap.generated_at) - Date.now();
    if (reason !== "page") {
      // Calls this screen has not heard as facts (cut off, a gap, or facts that were folded
      // into a re-read): say the recent ones, oldest first. Keys match the facts' exactly.
      const horizon = Date.parse(snap.generated_at) - S.announce_missed_seconds * 1000;
      snap.calls.slice().reverse().forEach(function (c) {
        if (!seen.has(callKey(c)) && Date.parse(c.at) >= horizon) {
          enqueue(c.code, c.counter);
          flash();
        }
      });
    }
    snap.calls.forEach(function (c) { seen.add(callKey(c)); });
    calls = snap.calls.slice();
    areas = snap.areas;
    if (snap.site) {
      $("hall-name").textContent = snap.site.name;
      $("hall-unit").textContent = snap.site.unit_name;
    }
    renderCalls();
    renderAreas();
    tick();
  }

  function onCalled(p) {
    const t = p.ticket;
    if (!wanted(p.counter, t.area_code, t.area_prefix)) return;
    const call = { code: t.code, counter: p.counter, area: t.area_name, at: t.called_at, recall: !!p.recall };
    const key = callKey(call);
    if (seen.has(key)) return;
    seen.add(key);
    calls.unshift(call);
    calls = calls.slice(0, HISTORY);
    renderCalls();
    flash();
    enqueue(call.code, call.counter);
  }

  applySnapshot(cfg.snapshot, "page");
  setInterval(tick, 1000);

  const conn = MotcuaLive.connect({
    namespace: "/display",
    auth: { areas: S.filter.areas.join(","), counters: S.filter.counters.join(","), site: S.filter.site },
    events: FACTS,
    marker: $("offline"),
    onSnapshot: applySnapshot,
    onEvent: function (name, payload) {
      if (name === "ticket_called") onCalled(payload);
      if (name === "board_changed") {
        conn.refresh(); // a change with no detail (e.g. tickets expired): read it all
        return;
      }
      if (countWaiting(name, payload)) renderAreas();
    },
  });

  // Facts arrive exactly once and in order after a snapshot (live.js), so the waiting counts
  // follow from them without re-reading the board after every call.
  function countWaiting(name, p) {
    const t = p.ticket;
    if (!t) return false;
    const area = areas.find(function (a) { return a.code === t.area_code; });
    if (!area) return false; // an area this display does not show
    let delta = 0;
    if (name === "ticket_issued") delta = 1;
    else if (name === "ticket_called" && !p.recall) delta = -1; // only waiting tickets are called
    else if (name === "ticket_no_show" && t.status === "waiting") delta = 1; // back in the queue
    else if (name === "ticket_transferred") delta = 1; // waiting again, in its new area
    else if (name === "ticket_cancelled" && p.counter == null) delta = -1; // was waiting
    area.waiting = Math.max(0, area.waiting + delta);
    return delta !== 0;
  }

  // The day changes without facts, and a re-read costs little: re-read every minute.
  setInterval(function () { conn.refresh(); }, 60000);

  // The ticker's speed follows its length (about 120 px per second).
  function sizeTicker() {
    const el = $("ticker");
    const distance = el.scrollWidth + el.parentElement.clientWidth;
    el.style.animationDuration = Math.max(10, distance / 120) + "s";
  }
  sizeTicker();

  window.motcuaDisplay = {
    conn: conn, announced: announced, queue: queue, requested: requested, syncs: syncs,
    get calls() { return calls; }, get areas() { return areas; },
  };
})();
