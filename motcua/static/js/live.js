/*
 * motcua live connection, shared by every screen (counter, display, kiosk, rating).
 *
 * Socket.IO with the rules of docs/realtime.md:
 *  - every (re)connect: ask the server for a full snapshot (verb "snapshot", acked);
 *  - every fact carries the site's sequence number `seq`: a fact at or below the
 *    snapshot's seq is already in it (dropped); seq + 1 is applied; a jump means facts
 *    were lost: buffer, re-sync, replay what is newer than the new snapshot;
 *  - while disconnected a marker is shown and verbs fail fast (never queued for later:
 *    a "call next" must not fire minutes after the officer pressed it);
 *  - reconnects forever, so a display comes back by itself after a server restart.
 *
 * Usage:
 *   const conn = MotcuaLive.connect({
 *     namespace: "/display", auth: {...}, events: ["ticket_called", ...],
 *     onSnapshot(snapshot, reason) {}, // reason: "connect" | "reconnect" | "gap" | "refresh"
 *     onEvent(name, payload) {}, onStatus(online) {}, onRefused(error) {},
 *     marker: document.getElementById("offline"), messages: {offline: "...", timeout: "..."},
 *   });
 *   conn.request("call_next", {}).then(ack => ...);   // ack.ok, ack.error, ack.message
 *   conn.refresh();                                    // ask for a fresh snapshot
 * A `settings_changed` fact reloads the page when idle (or calls opts.onSettings(payload)); so
 * does a (re)connect that finds the server's /settings/version different from the page's
 * <html data-settings-version> (a change saved while this page was offline or reloading).
 */
(function (global) {
  "use strict";

  // The site's address prefix ("/s/phuong-2" under a province's server, "" in a single hall):
  // the page says it (<html data-root>); every request and the socket follow it.
  const ROOT = global.document.documentElement.dataset.root || "";

  const DEFAULTS = {
    namespace: "/",
    auth: {},
    events: [],
    ackTimeoutMs: 8000,
    retryMs: 1000,
    onSnapshot: function () {},
    onEvent: function () {},
    onStatus: function () {},
    onRefused: function () {},
    marker: null,
    messages: {},
  };

  // An administrator changed the hall's settings: reload, once nobody is using the screen
  // (no touch or key for 15 s, and the page has not marked itself busy with data-live-busy).
  let lastInput = 0; // no touch yet: an untouched screen reloads at once
  ["pointerdown", "keydown"].forEach(function (name) {
    global.addEventListener(name, function () { lastInput = Date.now(); }, true);
  });
  let reloadTimer = null;
  function reloadWhenIdle() {
    if (reloadTimer) return;
    const check = function () {
      const busy = global.document.documentElement.dataset.liveBusy === "1";
      if (!busy && Date.now() - lastInput > 15000) global.location.reload();
      else reloadTimer = global.setTimeout(check, 2000);
    };
    reloadTimer = global.setTimeout(check, 500 + Math.random() * 2500); // spread the screens
  }

  // A paired device (kiosk, display, tablet) reports in: "online" on the admin page.
  let heartbeat = null;
  function startHeartbeat() {
    if (heartbeat || !/(?:^|; )motcua_paired=1/.test(global.document.cookie)) return;
    const beat = function () {
      global.fetch(ROOT + "/device/api/heartbeat", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: "{}",
      }).catch(function () {});
    };
    beat();
    heartbeat = global.setInterval(beat, 60000);
  }

  function connect(options) {
    const opts = Object.assign({}, DEFAULTS, options);
    const socket = global.io(opts.namespace, {
      auth: opts.auth,
      path: ROOT + "/socket.io", // the site's prefix tells the server which site this is
      // A websocket straight away: behind nginx with several server processes no sticky
      // session is needed (docs/cluster.md); long polling only where websockets fail.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      randomizationFactor: 0.3,
      timeout: 5000,
    });

    let lastSeq = null; // seq of the state on screen; null until the first snapshot
    let ready = false; // a snapshot for the current connection has been applied
    let syncing = false;
    let everConnected = false;
    let pendingReason = null;
    let buffer = [];
    let online = false;
    let lastSyncAt = 0;
    let gapTimer = null;

    function setOnline(value) {
      online = value;
      if (opts.marker) opts.marker.hidden = value;
      global.document.documentElement.classList.toggle("is-offline", !value);
      opts.onStatus(value);
    }
    // No marker during the first moments of a page load; after that, show it until connected.
    global.setTimeout(function () { if (!everConnected) setOnline(false); }, 2500);

    function deliver(name, payload) {
      const seq = payload && typeof payload.seq === "number" ? payload.seq : null;
      if (seq === null) {
        opts.onEvent(name, payload);
        return;
      }
      if (seq <= lastSeq) return; // already part of the snapshot on screen
      if (seq !== lastSeq + 1) {
        buffer.push({ name: name, payload: payload });
        // A gap right after a re-sync (a fact newer than any snapshot): back off, never spin.
        if (Date.now() - lastSyncAt < opts.retryMs) {
          if (!gapTimer) {
            gapTimer = global.setTimeout(function () { gapTimer = null; resync("gap"); },
              opts.retryMs);
          }
        } else {
          resync("gap");
        }
        return;
      }
      lastSeq = seq;
      opts.onEvent(name, payload);
    }

    function applySnapshot(snapshot, reason) {
      lastSeq = snapshot.seq;
      lastSyncAt = Date.now();
      ready = true;
      opts.onSnapshot(snapshot, reason);
      const pending = buffer
        .filter(function (e) { return e.payload.seq === undefined || e.payload.seq > lastSeq; })
        .sort(function (a, b) { return (a.payload.seq || 0) - (b.payload.seq || 0); });
      buffer = [];
      pending.forEach(function (e) { deliver(e.name, e.payload); });
    }

    function resync(reason) {
      if (syncing) {
        pendingReason = pendingReason || reason;
        return;
      }
      if (!socket.connected) return; // the next connect re-syncs anyway
      syncing = true;
      socket.timeout(opts.ackTimeoutMs).emit("snapshot", {}, function (err, snapshot) {
        syncing = false;
        if (err || !snapshot || snapshot.ok === false || typeof snapshot.seq !== "number") {
          global.setTimeout(function () { resync(reason); }, opts.retryMs);
          return;
        }
        applySnapshot(snapshot, reason);
        if (pendingReason) {
          const again = pendingReason;
          pendingReason = null;
          resync(again);
        }
      });
    }

    opts.events.forEach(function (name) {
      socket.on(name, function (payload) {
        if (!ready || syncing) {
          buffer.push({ name: name, payload: payload || {} });
          return;
        }
        deliver(name, payload || {});
      });
    });

    function settingsChanged(payload) {
      if (opts.onSettings) opts.onSettings(payload || {});
      else reloadWhenIdle();
    }
    socket.on("settings_changed", settingsChanged);

    // A settings_changed sent while this page was offline, or while it was reloading, is lost:
    // on every (re)connect compare the settings the page was rendered with to the server's.
    function checkSettingsVersion() {
      const mine = global.document.documentElement.dataset.settingsVersion;
      if (!mine || typeof global.fetch !== "function") return;
      global.fetch(ROOT + "/settings/version", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (body && body.version && body.version !== mine) settingsChanged({ keys: [] });
        })
        .catch(function () {});
    }
    startHeartbeat();

    socket.on("connect", function () {
      ready = false;
      syncing = false;
      pendingReason = null;
      setOnline(true);
      resync(everConnected ? "reconnect" : "connect");
      everConnected = true;
      checkSettingsVersion();
    });

    socket.on("disconnect", function () {
      ready = false;
      setOnline(false);
    });

    socket.on("connect_error", function (err) {
      setOnline(false);
      // A refusal by the namespace (not logged in, unknown counter) is final: say why.
      if (err && err.data && err.data.error) opts.onRefused(err.data);
    });

    function request(verb, data) {
      if (!socket.connected) {
        return Promise.resolve({ ok: false, error: "offline", message: opts.messages.offline });
      }
      return new Promise(function (resolve) {
        socket.timeout(opts.ackTimeoutMs).emit(verb, data || {}, function (err, ack) {
          if (err) {
            resync("refresh");
            resolve({ ok: false, error: "timeout", message: opts.messages.timeout });
            return;
          }
          resolve(ack || { ok: false, error: "no_answer", message: opts.messages.timeout });
        });
      });
    }

    return {
      socket: socket,
      request: request,
      refresh: function () { resync("refresh"); },
      get seq() { return lastSeq; },
      get online() { return online; },
    };
  }

  global.MotcuaLive = { connect: connect };
})(window);
