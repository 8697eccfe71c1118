// The Verify page of a long chain: the server checks it a segment a request (a second or so each), so no
// request runs for a minute; this walks the segments from position 1, shows how far it has got, lists the
// first problems found, then asks for the last step (records with no link, and the running totals) and says
// the verdict. The server's answer is only ever put in as text. Without JavaScript the page offers the
// whole check in one request instead.
(function () {
  "use strict";

  function start() {
    var walk = document.getElementById("verify-walk");
    if (!walk || !window.fetch) return;
    var verdict = document.getElementById("verdict");
    var done = document.getElementById("verify-done");
    var bar = document.getElementById("verify-bar");
    var table = document.getElementById("verify-problems");
    var more = document.getElementById("problems-more");
    var totalsCheck = document.getElementById("totals-check");
    var shown = parseInt(walk.dataset.shown, 10);
    var count = parseInt(walk.dataset.count, 10);
    var listed = 0;
    var found = 0;
    var first = null;

    function json(url) {
      return fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error("the server answered " + response.status);
          return response.json();
        });
    }

    function cell(row, text) {
      var td = document.createElement("td");
      td.textContent = text;
      row.appendChild(td);
    }

    function add(answer) {
      found += answer.problem_count;
      answer.problems.forEach(function (problem) {
        if (first === null) first = problem;
        if (listed >= shown) return;
        var row = document.createElement("tr");
        row.dataset.kind = problem.kind;
        cell(row, problem.position === null ? "–" : String(problem.position));
        cell(row, problem.record);
        cell(row, problem.kind);
        cell(row, problem.message);
        table.tBodies[0].appendChild(row);
        listed += 1;
      });
      table.hidden = listed === 0;
      if (found > listed) {
        more.hidden = false;
        more.textContent = "And " + (found - listed).toLocaleString("en") + " more problem" +
          (found - listed === 1 ? "" : "s") + " (" + found.toLocaleString("en") + " in all): the first are " +
          "listed here. An administrator lists every one with " + walk.dataset.command + ".";
      }
    }

    function say(state, strong, rest) {
      verdict.dataset.intact = state;
      verdict.className = state === "false" ? "banner banner-warn" : "banner";
      verdict.setAttribute("role", state === "false" ? "alert" : "status");
      verdict.textContent = "";
      var b = document.createElement("strong");
      b.textContent = strong;
      verdict.appendChild(b);
      verdict.appendChild(document.createTextNode(" " + rest));
    }

    function progress(checked) {
      done.textContent = checked.toLocaleString("en");
      bar.value = checked;
    }

    function finish(rest) {
      add(rest);
      bar.hidden = true;
      if (found === 0) {
        say("true", "Intact:", count.toLocaleString("en") + " record" + (count === 1 ? "" : "s") +
          " chained, every one as it was recorded.");
      } else {
        say("false", "The chain is broken.", "The first record that does not match: " + first.record +
          (first.position === null ? "" : " (position " + first.position + ")") + ": " + first.message + ".");
      }
      totalsCheck.className = rest.totals_off.length ? "banner banner-warn" : "muted";
      totalsCheck.dataset.agree = rest.totals_off.length ? "false" : "true";
      totalsCheck.textContent = rest.totals_off.length
        ? "The running totals no longer match the entries: " + rest.totals_off.join("; ") + ". Once that is " +
          "settled, an administrator recomputes them with " + walk.dataset.rebuild + "."
        : "The running totals that balances are read from add up to the entries exactly.";
    }

    function segment(from) {
      return json(walk.dataset.segmentUrl + "?from=" + from).then(function (answer) {
        add(answer);
        count = answer.last;  // records chained while the check runs are checked too
        bar.max = count;
        progress(Math.max(answer.end, 0));
        return answer.next === null ? json(walk.dataset.restUrl).then(finish) : segment(answer.next);
      });
    }

    segment(1).catch(function (error) {
      say("error", "The check stopped:", error.message + ". Reload the page to check again.");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
