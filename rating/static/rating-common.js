/* Shared by the counter's rating tablet and the phone rating: faces, level and reason buttons.
 *
 * The scale comes from the server (motcua.services.ratings.RatingScale.as_dict): levels best
 * first, each {score, label, color, mood (0 = saddest, 1 = happiest), low}. Faces are inline
 * SVG, so no emoji font is needed on the device.
 */
"use strict";

window.MotcuaRating = (function () {
  const SVG_NS = "http://www.w3.org/2000/svg";

  /** A face for a mood in 0..1 on a disc of the level's colour. */
  function face(mood, color) {
    const m = Math.max(0, Math.min(1, Number(mood)));
    const curve = 66 + (m - 0.5) * 44; // control point: below the corners = smile
    // The unhappy face frowns; it does not glare: angry brows read as hostile to a citizen
    // about to say the service was poor (the face is a label, not a judgement of them).
    return (
      '<svg xmlns="' + SVG_NS + '" viewBox="0 0 100 100" class="r-face" aria-hidden="true">' +
      '<circle cx="50" cy="50" r="47" fill="' + color + '" stroke="#fff" stroke-width="4"/>' +
      '<circle cx="35" cy="42" r="7" fill="#fff"/><circle cx="65" cy="42" r="7" fill="#fff"/>' +
      '<path d="M28 68 Q50 ' + curve.toFixed(1) + ' 72 68" fill="none" stroke="#fff" ' +
      'stroke-width="7" stroke-linecap="round"/></svg>'
    );
  }

  /** Dark text on light colours (amber), white text on the others. */
  function inkFor(color) {
    const hex = String(color).replace("#", "");
    const r = parseInt(hex.slice(0, 2), 16), g = parseInt(hex.slice(2, 4), 16);
    const b = parseInt(hex.slice(4, 6), 16);
    return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#1b1f24" : "#fff";
  }

  /** Fill a container with one large button per level; onPick(level) on a tap. */
  function levelButtons(container, scale, onPick) {
    container.textContent = "";
    container.dataset.size = String(scale.levels.length);
    scale.levels.forEach(function (level) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "r-level";
      button.dataset.level = String(level.score);
      button.style.setProperty("--level-color", level.color);
      button.style.setProperty("--level-ink", inkFor(level.color));
      button.innerHTML = face(level.mood, level.color);
      const label = document.createElement("span");
      label.className = "r-level-label";
      label.textContent = level.label;
      button.appendChild(label);
      button.addEventListener("click", function () { onPick(level); });
      container.appendChild(button);
    });
  }

  /** Fill a container with toggle buttons for the reasons (``labels``: what they say, when it
   * is not the reason itself, e.g. in English); returns () => chosen reasons. */
  function reasonButtons(container, reasons, labels) {
    container.textContent = "";
    reasons.forEach(function (reason, i) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "r-reason";
      button.setAttribute("aria-pressed", "false");
      button.dataset.reason = reason;
      button.textContent = (labels && labels[i]) || reason;
      button.addEventListener("click", function () {
        const on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", on ? "true" : "false");
      });
      container.appendChild(button);
    });
    return function () {
      return Array.from(container.querySelectorAll('.r-reason[aria-pressed="true"]'))
        .map(function (b) { return b.dataset.reason; });
    };
  }

  /** "{n} phút" with {n: 3} → "3 phút". */
  function fmt(text, params) {
    return String(text).replace(/\{(\w+)\}/g, function (_, name) {
      return params && name in params ? params[name] : "";
    });
  }

  return { face: face, inkFor: inkFor, levelButtons: levelButtons,
           reasonButtons: reasonButtons, fmt: fmt };
})();
