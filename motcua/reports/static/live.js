/* The leaders' live view: rendered from the server's snapshot, re-read on every fact.
 *
 * /leader (MotcuaLive: snapshot on every (re)connect, seq-checked facts). A fact about the
 * hall asks for a fresh snapshot (at most one a second): the figures are always the server's.
 */
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("live-data").textContent);
  const M = data.messages;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, params) => String(text).replace(/\{(\w+)\}/g, (_, k) => (k in params ? params[k] : ""));
  const hhmm = (iso) => new Date(iso).toLocaleTimeString("vi-VN", {
    hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh",
  });
  const num = (n) => (n == null ? "–" : Number(n).toLocaleString("vi-VN"));

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function render(s) {
    const t = s.today;
    $("lv-hall").textContent = s.site.name;
    $("lv-waiting").textContent = num(t.waiting);
    $("lv-at").textContent = num(t.at_counters);
    $("lv-served").textContent = num(t.served);
    $("lv-issued").textContent = num(t.issued);
    $("lv-noshow").textContent = num(t.no_show);
    $("lv-rated").textContent = num(t.rated);

    const alerts = $("lv-alerts");
    alerts.textContent = "";
    if (!s.alerts.length) alerts.appendChild(el("li", "lv-ok", M.no_alerts));
    s.alerts.forEach((a) => alerts.appendChild(el("li", "lv-alert lv-" + a.kind, a.text)));

    const sat = $("lv-sat");
    sat.textContent = "";
    if (!t.rated) sat.appendChild(el("p", "lv-muted", M.no_ratings));
    t.levels.forEach((lv) => {
      const row = el("div", "lv-sat-row");
      row.appendChild(el("span", "lv-sat-label", lv.label));
      const track = el("span", "lv-sat-track");
      const bar = el("span", "lv-sat-bar");
      bar.style.width = (lv.share ? (100 * lv.share).toFixed(1) : 0) + "%";
      bar.style.background = lv.color;
      track.appendChild(bar);
      row.appendChild(track);
      const pct = lv.share == null ? "–" : (100 * lv.share).toFixed(1).replace(".", ",") + "%";
      row.appendChild(el("span", "lv-sat-num", lv.count + " (" + pct + ")"));
      sat.appendChild(row);
    });

    const areas = $("lv-areas");
    areas.textContent = "";
    s.areas.forEach((a) => {
      const tr = el("tr", a.over_target ? "lv-over" : "");
      tr.appendChild(el("th", "", a.prefix + " – " + a.name));
      tr.appendChild(el("td", "num", num(a.waiting)));
      tr.appendChild(el("td", "num", a.waiting ? fmt(M.minutes, { n: a.longest_wait_minutes }) : "–"));
      tr.appendChild(el("td", "num", fmt(M.minutes, { n: a.target_wait_minutes })));
      areas.appendChild(tr);
    });

    const counters = $("lv-counters");
    counters.textContent = "";
    s.counters.forEach((c) => {
      const card = el("div", "lv-counter lv-" + c.state);
      card.appendChild(el("div", "lv-counter-no", "Quầy " + String(c.number).padStart(2, "0")));
      card.appendChild(el("div", "lv-counter-officer", c.officer || M.no_officer));
      let state = M.state_idle;
      if (c.state === "paused") state = M.state_paused;
      else if (c.state === "called") state = fmt(M.state_called, { code: c.ticket });
      else if (c.state === "serving") state = fmt(M.state_serving, { code: c.ticket });
      const line = el("div", "lv-counter-state", state);
      if (c.since && (c.state === "called" || c.state === "serving")) {
        line.appendChild(el("small", "", " " + fmt(M.since, { time: hhmm(c.since) })));
      }
      card.appendChild(line);
      let served = fmt(M.served, { n: c.served_today });
      if (c.avg_service_minutes != null) {
        served += " · " + fmt(M.avg, { n: String(c.avg_service_minutes).replace(".", ",") });
      }
      card.appendChild(el("div", "lv-counter-served", served));
      card.appendChild(el("div", "lv-counter-areas", c.areas.join(", ")));
      counters.appendChild(card);
    });
    $("lv-updated").textContent = fmt(M.updated, { time: hhmm(s.generated_at) });
    document.documentElement.dataset.seq = String(s.seq);
  }

  function tick() {
    $("lv-clock").textContent = new Date().toLocaleString("vi-VN", {
      hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric",
      timeZone: "Asia/Ho_Chi_Minh",
    });
  }

  render(data.snapshot);
  tick();
  setInterval(tick, 15000);

  let conn = null;
  let queued = null;
  let last = 0;
  function refreshSoon() {
    if (queued) return;
    const wait = Math.max(0, 1000 - (Date.now() - last));
    queued = setTimeout(() => { queued = null; last = Date.now(); conn.refresh(); }, wait);
  }
  if (typeof window.io === "function" && window.MotcuaLive) {
    conn = window.MotcuaLive.connect({
      namespace: "/leader",
      auth: data.site ? { site: data.site } : {},
      events: [
        "ticket_issued", "ticket_called", "ticket_no_show", "ticket_started", "ticket_finished",
        "ticket_transferred", "ticket_cancelled", "counter_changed", "board_changed",
        "print_status", "ticket_rated",
      ],
      onSnapshot: (s) => render(s),
      onEvent: () => refreshSoon(),
      marker: $("offline"),
      messages: { offline: M.offline, timeout: M.timeout },
    });
    // Waits grow with the clock, not only with facts.
    setInterval(() => conn.refresh(), 30000);
  }
})();
