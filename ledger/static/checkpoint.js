// Checkpoint pages, progressively enhanced (the pages work without it; no inline script, so a strict
// Content-Security-Policy can forbid inline code):
// - the decision form shows only the date its chosen decision needs (renew: new end; renegotiate: effective
//   from; terminate: last day); without JavaScript all three show, with a hint;
// - the review pack's Print button, which only makes sense with JavaScript, appears and prints.
(function () {
  "use strict";

  function decisionDates(form) {
    var hint = form.querySelector(".no-js-only");
    if (hint) hint.hidden = true;
    function sync() {
      var chosen = form.querySelector("input[name=decision]:checked");
      form.querySelectorAll("[data-decision-field]").forEach(function (el) {
        el.hidden = !chosen || el.getAttribute("data-decision-field") !== chosen.value;
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "decision") sync();
    });
    sync();
  }

  function printButtons() {
    document.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function start() {
    var form = document.getElementById("decision-form");
    if (form) decisionDates(form);
    printButtons();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
