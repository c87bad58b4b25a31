/* The print page's button (no inline script: the CSP allows only the app's own files). */
"use strict";
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
