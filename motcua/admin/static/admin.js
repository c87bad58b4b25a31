/* Admin pages: confirmations, the rating scale's visible levels, printer fields per backend. */
"use strict";

(function () {
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    const message = button && button.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // A refused form: the first field in error is brought into view with the focus, next to
  // its message (a long page must not hide it below a banner at the top).
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    // After the load: the browser's own jump to the #section would take the focus away.
    window.addEventListener("load", function () {
      window.setTimeout(function () {
        invalid.scrollIntoView({ block: "center" });
        invalid.focus({ preventScroll: true });
      }, 0);
    });
  }

  // Rating scale: show as many label inputs as the chosen number of levels.
  document.querySelectorAll("[data-rating-scale]").forEach(function (box) {
    function sync() {
      const chosen = box.querySelector("input[name=rating_size]:checked");
      const size = chosen ? parseInt(chosen.value, 10) : 3;
      box.querySelectorAll("[data-level]").forEach(function (li) {
        li.hidden = parseInt(li.dataset.level, 10) >= size;
      });
    }
    box.addEventListener("change", sync);
    sync();
  });

  // Printer form: only the fields of the chosen connection.
  const backend = document.querySelector("select[name=backend]");
  const box = document.querySelector(".a-printer-fields");
  if (backend && box) {
    // Which fields each backend takes comes from the server's backend registry.
    const FIELDS = JSON.parse(box.dataset.fields || "{}");
    const syncPrinter = function () {
      const wanted = FIELDS[backend.value] || [];
      box.querySelectorAll("label.a-field").forEach(function (label) {
        const input = label.querySelector("input");
        const keep = wanted.indexOf(input.name) >= 0 || label.classList.contains("has-error");
        label.hidden = !keep;
      });
    };
    backend.addEventListener("change", syncPrinter);
    syncPrinter();
  }
})();
