/* The phone rating in the ticket's status page (the slot #rating-slot of kiosk/status.html).
 *
 * Shown once the ticket is finished (status.js sets #status[data-status]); asks the rating
 * surface whether this ticket may still be rated, then offers the same scale as the tablet.
 * One rating per ticket: if the counter's tablet was first, the page says so.
 */
"use strict";

(function () {
  const R = window.MotcuaRating;
  const slot = document.getElementById("rating-slot");
  const page = document.getElementById("status");
  if (!slot || !page || !slot.dataset.ratingUrl) return;
  const url = slot.dataset.ratingUrl;
  let loaded = false;
  let texts = {};

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function message(text, kind) {
    slot.textContent = "";
    slot.dataset.state = kind;
    slot.appendChild(el("p", "pr-msg pr-" + kind, text));
  }

  async function post(body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { /* proxy page */ }
    return { status: response.status, body: answer };
  }

  async function send(level, extra) {
    slot.classList.add("is-sending");
    try {
      const r = await post(Object.assign({ level: level.score }, extra || {}));
      if (r.status === 201) {
        message(texts.thanks, "thanks");
      } else if (r.body && r.body.error === "already_rated") {
        load(true);
      } else {
        slot.querySelector(".pr-error").textContent = (r.body && r.body.message) || texts.error;
      }
    } catch (e) {
      slot.querySelector(".pr-error").textContent = texts.error;
    } finally {
      slot.classList.remove("is-sending");
    }
  }

  function reasons(level, state) {
    const scale = state.scale;
    slot.textContent = "";
    slot.dataset.state = "reasons";
    const back = el("button", "pr-back", texts.back);
    back.type = "button";
    back.addEventListener("click", function () { form(state); });
    slot.appendChild(back);
    const chosen = el("div", "pr-chosen");
    chosen.innerHTML = R.face(level.mood, level.color);
    chosen.appendChild(el("span", "", level.label));
    slot.appendChild(chosen);
    slot.appendChild(el("p", "pr-q", texts.reasons_title));
    const list = el("div", "pr-reasons");
    slot.appendChild(list);
    const picked = R.reasonButtons(list, scale.reasons, scale.reason_labels);
    const label = el("label", "pr-comment", texts.comment);
    const area = document.createElement("textarea");
    area.maxLength = 1000;
    area.rows = 2;
    label.appendChild(area);
    slot.appendChild(label);
    const button = el("button", "pr-send", texts.send);
    button.type = "button";
    button.addEventListener("click", function () {
      const comment = area.value.trim();
      send(level, Object.assign({ reasons: picked() }, comment ? { comment: comment } : {}));
    });
    slot.appendChild(button);
    slot.appendChild(el("p", "pr-error"));
  }

  function form(state) {
    const scale = state.scale;
    slot.textContent = "";
    slot.dataset.state = "open";
    slot.appendChild(el("h2", "pr-title", texts.title));
    slot.appendChild(el("p", "pr-q", scale.question));
    const levels = el("div", "pr-levels");
    slot.appendChild(levels);
    R.levelButtons(levels, scale, function (level) {
      if (level.low && scale.reasons.length) reasons(level, state);
      else send(level);
    });
    slot.appendChild(el("p", "pr-note", texts.anonymous));
    slot.appendChild(el("p", "pr-error"));
  }

  async function load(force) {
    if (loaded && !force) return;
    loaded = true;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      const state = await response.json();
      texts = state.texts || texts;
      if (state.state === "open") form(state);
      else if (state.state === "rated") {
        message(R.fmt(texts.rated, { label: state.rated.label }), "rated");
      } else message(texts.closed, "closed");
    } catch (e) {
      loaded = false; // offline: try again on the next status change
    }
  }

  function check() {
    if (page.dataset.status === "finished") load(false);
  }
  new MutationObserver(check).observe(page, { attributes: true, attributeFilter: ["data-status"] });
  check();
})();
