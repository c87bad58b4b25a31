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

  function render(ticket) {
    if (!ticket || ticket.token !== token) return;
    const d = ticket.display || {};
    $("s-status").className = "s-status s-" + (d.kind || "waiting");
    $("s-headline").textContent = d.headline || "";
    $("s-detail").textContent = d.detail || "";
    const waiting = ticket.status === "waiting";
    $("s-facts").hidden = !waiting;
    if (waiting) {
      $("s-ahead").textContent = ticket.people_ahead == null ? "–" : ticket.people_ahead;
      $("s-eta").textContent = C.fmt(T.minutes, {
        n: ticket.estimated_wait_minutes == null ? "–" : ticket.estimated_wait_minutes,
      });
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
    auth: { token: token },
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
    },
  });
  // People ahead change with other tickets' calls, which this room does not hear: refresh.
  setInterval(() => live.refresh(), 30000);
  render(data.ticket);
})();
