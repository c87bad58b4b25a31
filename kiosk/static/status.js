/* The ticket-status page (what the QR opens): live over Socket.IO, polling as a fallback. */
"use strict";

(function () {
  const root = document.getElementById("status");
  const data = JSON.parse(document.getElementById("status-data").textContent);
  const T = data.texts;
  const C = window.KioskCommon;
  const token = root.dataset.token;
  const pollUrl = root.dataset.pollUrl;
  const $ = (id) => document.getElementById(id);
  const lang = root.dataset.lang || "vi";

  const baseTitle = document.title;
  let shownStatus = null;
  let shownCalls = null;

  // Called (or called again): the phone vibrates where it can, beeps once, and the tab's
  // title says so, for a citizen who is looking at another app or at the lobby.
  function alertCalled(ticket) {
    const again = shownStatus === "called" && ticket.call_count !== shownCalls;
    if (shownStatus === null || (shownStatus === "called" && !again)) return;
    try {
      if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 800]);
    } catch (e) { /* not allowed before a touch: the title and the colours still say it */ }
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) {
        const ctx = new Ctx();
        const osc = ctx.createOscillator();
        osc.frequency.value = 880;
        osc.connect(ctx.destination);
        osc.start();
        osc.stop(ctx.currentTime + 0.35);
      }
    } catch (e) { /* no sound without a touch on some phones */ }
    root.dataset.alerted = String(Number(root.dataset.alerted || 0) + 1);
  }

  function render(ticket) {
    if (!ticket || ticket.token !== token) return;
    if (ticket.status === "called") {
      alertCalled(ticket);
      document.title = C.fmt(T.called_title, {
        code: ticket.code, counter: ticket.counter_number == null ? "" : ticket.counter_number,
      });
    } else {
      document.title = baseTitle;
    }
    shownStatus = ticket.status;
    shownCalls = ticket.call_count;
    const d = ticket.display || {};
    $("s-status").className = "s-status s-" + (d.kind || "waiting");
    $("s-headline").textContent = d.headline || "";
    $("s-detail").textContent = d.detail || "";
    const waiting = ticket.status === "waiting";
    $("s-facts").hidden = !waiting;
    if (waiting) {
      $("s-ahead").textContent = ticket.people_ahead == null ? "–" : ticket.people_ahead;
      $("s-eta").textContent = C.waitText(T.wait_range, T.wait_short, ticket) || "–";
    }
    // Issue 6: the rating surface takes over this slot once the transaction is finished.
    $("rating-slot").hidden = ticket.status !== "finished" || !$("rating-slot").dataset.ratingUrl;
    root.dataset.status = ticket.status;
  }

  async function poll() {
    try {
      const r = await C.fetchJSON(pollUrl, {}, 8000);
      if (r.ok && r.body) render(r.body.ticket);
    } catch (e) {
      /* phone offline: the next poll tries again */
    }
  }

  const live = C.follow({
    namespace: "/kiosk",
    auth: { token: token, lang: lang },
    pollMs: 20000,
    poll: poll,
    onStatus: (on) => {
      $("s-live").className = "k-link " + (on ? "k-link-live" : "k-link-poll");
      $("s-live-text").textContent = on ? T.live : T.offline;
    },
    onSnapshot: (snapshot) => render(snapshot.ticket),
    // Facts about this ticket carry the site's seq, so every one is a "gap" for this page and
    // MotcuaLive re-fetches the snapshot: the page always shows the server's own words.
    events: {
      ticket_called: () => live.refresh(),
      ticket_started: () => live.refresh(),
      ticket_finished: () => live.refresh(),
      ticket_no_show: () => live.refresh(),
      ticket_transferred: () => live.refresh(),
      ticket_cancelled: () => live.refresh(),
      queue_position: (place) => {
        if (root.dataset.status !== "waiting") return;
        $("s-ahead").textContent = place.people_ahead;
        $("s-eta").textContent = C.waitText(T.wait_range, T.wait_short, place) || "–";
      },
    },
  });
  // The server pushes this ticket's place whenever its area's queue moves (queue_position);
  // a slow re-read stays as a safety net.
  setInterval(() => live.refresh(), 120000);
  render(data.ticket);
})();
