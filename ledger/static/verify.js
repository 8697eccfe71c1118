// The Verify page of a long chain: the server checks it a segment a request (a second or so each), so no
// request runs for a minute; this walks the segments from position 1, shows how far it has got, lists the
// first problems found, then asks for the last step (records with no link, the running totals, an earlier
// export's head) and shows the verdict the server puts together from what the segments found: the same
// verdict, in the same words, as the whole check, the API and `flask ledger verify`. The server's answer is
// only ever put in as text. Without JavaScript the page offers the whole check in one request instead.
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
    var first = null;  // the position of the first problem the segments found

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
        if (first === null && problem.position !== null) first = problem.position;
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
      verdict.dataset.state = state === "true" ? "intact" : state === "false" ? "broken" : state;
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
      var outcome = rest.verdict;
      say(outcome.intact ? "true" : "false", outcome.headline, outcome.message);
      totalsCheck.className = rest.totals_off.length ? "banner banner-warn" : "muted";
      totalsCheck.dataset.agree = rest.totals_off.length ? "false" : "true";
      totalsCheck.textContent = rest.totals_off.length
        ? "The running totals no longer match the entries: " + rest.totals_off.join("; ") + ". Once that is " +
          "settled, an administrator recomputes them with " + walk.dataset.rebuild + "."
        : "The running totals that balances are read from add up to the entries exactly.";
    }

    function restUrl() {
      var url = walk.dataset.restUrl;
      return url + (url.indexOf("?") === -1 ? "?" : "&") + "found=" + found +
        (first === null ? "" : "&first=" + first);
    }

    function segment(from) {
      return json(walk.dataset.segmentUrl + "?from=" + from).then(function (answer) {
        add(answer);
        count = answer.last;  // records chained while the check runs are checked too
        bar.max = count;
        progress(Math.max(answer.end, 0));
        return answer.next === null ? json(restUrl()).then(finish) : segment(answer.next);
      });
    }

    segment(1).catch(function (error) {
      say("error", "The check stopped:", error.message + ". Reload the page to check again.");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
