/* Shared by the kiosk and the ticket-status page.
 *
 * Live data through the app's shared MotcuaLive (motcua/static/js/live.js: snapshot on every
 * (re)connect, seq-checked facts) when the vendored Socket.IO client loaded; polling instead
 * when it did not, and while the socket is down.
 */
"use strict";

window.KioskCommon = (function () {
  /** Follow live data; returns {isLive(), refresh()}. */
  function follow(opts) {
    let timer = null;
    let conn = null;
    const pollMs = opts.pollMs || 15000;
    const status = opts.onStatus || function () {};

    function startPolling() {
      if (timer === null) timer = setInterval(opts.poll, pollMs);
    }
    function stopPolling() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    }

    if (typeof window.io === "function" && window.MotcuaLive) {
      conn = window.MotcuaLive.connect({
        namespace: opts.namespace,
        auth: opts.auth || {},
        events: Object.keys(opts.events || {}),
        onSnapshot: opts.onSnapshot,
        onEvent: function (name, payload) {
          const handler = opts.events[name];
          if (handler) handler(payload);
        },
        onStatus: function (online) {
          if (online) stopPolling();
          else startPolling();
          status(online);
        },
        onRefused: opts.onRefused || function () {},
      });
    } else {
      status(false);
      startPolling();
    }
    return {
      isLive: function () {
        return !!(conn && conn.online);
      },
      refresh: function () {
        if (conn && conn.online) conn.refresh();
        else opts.poll();
      },
    };
  }

  /** A fresh idempotency key: randomUUID needs a secure context, a kiosk on a LAN has none. */
  function newKey() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* insecure context: fall through */
      }
    }
    if (c && c.getRandomValues) {
      const bytes = new Uint8Array(16);
      c.getRandomValues(bytes);
      return Array.from(bytes, function (b) {
        return b.toString(16).padStart(2, "0");
      }).join("");
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  /** fetch JSON with a timeout: {ok, status, body}; throws {network: true} when unreachable. */
  async function fetchJSON(url, options, timeoutMs) {
    const ctl = new AbortController();
    const timer = setTimeout(function () {
      ctl.abort();
    }, timeoutMs || 8000);
    const init = Object.assign({}, options || {}, { signal: ctl.signal });
    init.headers = Object.assign({ Accept: "application/json" }, (options || {}).headers);
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      throw { network: true, error: e };
    } finally {
      clearTimeout(timer);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      // A proxy's HTML error page or an empty answer: treat as the server being away.
      throw { network: true, error: e };
    }
    return { ok: response.ok, status: response.status, body: body };
  }

  /** "{n} người" with {n: 3} → "3 người". */
  function fmt(text, params) {
    return String(text).replace(/\{(\w+)\}/g, function (_, name) {
      return params && name in params ? params[name] : "";
    });
  }

  /** A predicted wait in words: ``range`` ("{low}–{high}") or, when it starts at 0,
   * ``short`` ("under {n}"); "" when the view has none. */
  function waitText(range, short, view) {
    if (view.wait_high_minutes == null) return "";
    return view.wait_low_minutes
      ? fmt(range, { low: view.wait_low_minutes, high: view.wait_high_minutes })
      : fmt(short, { n: view.wait_high_minutes });
  }

  return { follow: follow, newKey: newKey, fetchJSON: fetchJSON, fmt: fmt, waitText: waitText };
})();
