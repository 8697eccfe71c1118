// Live alliance pages: a progressive enhancement, the pages work as plain pages without it.
//
// One EventSource per page on the alliance's event stream. Each event has the alliance's event number
// (seq); the page keeps the highest it has shown and ignores anything at or below it, so a reconnect that
// replays events never shows one twice. On events, the page re-fetches its own URL (same filters) and swaps
// in every element marked data-live-region: the server renders the figures, this file never computes one.
// Forms are never inside a region, so what the viewer is typing survives and focus stays where it was.
//
// The indicator says "Live" only when the stream is open and every event received is shown: a refresh
// that fails (a 502, a dropped request, the network gone while the stream stayed open) keeps its events
// pending, shows "Catching up", and is tried again with a back-off (at once when the network returns).
// The indicator is worked out from the real state (the stream's readyState, navigator.onLine, pending
// events) on every change and every few seconds, so it never stays wrong after the network comes back.
(function () {
  "use strict";

  var nav = document.getElementById("alliance-nav");
  if (!nav || !nav.dataset.eventsUrl || !window.EventSource || !window.fetch || !window.DOMParser) return;

  var COALESCE_MS = 120;
  var TOAST_MS = 6000;
  var HIGHLIGHT_MS = 4000;
  var MAX_TOASTS = 4;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 15000;
  var CHECK_MS = 2000;
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  var eventsUrl = nav.dataset.eventsUrl;
  var seen = toInt(nav.dataset.lastSeq) || 0;
  var ownPartner = toInt(nav.dataset.ownPartner);
  var threshold = toInt(nav.dataset.notifyAbove);
  var statusEl = document.getElementById("live-status");
  var toastsEl = document.getElementById("live-toasts");
  var alertsEl = document.getElementById("live-alerts");

  var source = null;
  var stopped = false;
  var opened = false;     // the stream has been open at least once (before: "Connecting")
  var reopenTimer = null;
  var reopenDelay = 1000;

  var pending = [];       // events received whose regions are not yet refreshed (kept until a refresh works)
  var flushTimer = null;
  var refreshing = false;
  var failures = 0;       // refreshes failed in a row; above 0 the page is behind what it received
  var retryTimer = null;

  function toInt(value) {
    if (value === undefined || value === null || value === "") return null;
    var n = parseInt(value, 10);
    return isNaN(n) ? null : n;
  }

  // ---- the indicator -------------------------------------------------------------------------------

  function setState(state, text) {
    nav.dataset.liveState = state;
    if (!statusEl) return;
    statusEl.hidden = false;
    statusEl.dataset.state = state;
    statusEl.className = "live-status live-" + state;
    if (statusEl.textContent !== text) statusEl.textContent = text;
  }

  // What the indicator says follows from the state alone, so calling it again is always safe.
  function render() {
    if (stopped) return;  // a stop keeps the reason it was given
    if (navigator.onLine === false || !source || source.readyState === EventSource.CLOSED) {
      setState("offline", "Offline");
    } else if (source.readyState === EventSource.CONNECTING) {
      if (opened) setState("reconnecting", "Reconnecting\u2026");
      else setState("connecting", "Connecting\u2026");
    } else if (failures > 0) {
      setState("behind", "Catching up\u2026");
    } else {
      setState("live", "Live");
    }
  }

  function stop(state, text) {
    stopped = true;
    if (source) source.close();
    clearTimeout(retryTimer);
    clearTimeout(reopenTimer);
    setState(state, text);
  }

  // ---- the connection ------------------------------------------------------------------------------

  function connect() {
    if (stopped) return;
    var url = eventsUrl + (eventsUrl.indexOf("?") < 0 ? "?" : "&") + "after=" + seen;
    source = new EventSource(url);
    source.onopen = function () {
      opened = true;
      reopenDelay = 1000;
      render();
      retryNow();  // a refresh that failed while the connection was down need not wait for its back-off
    };
    source.onerror = function () {
      if (stopped) return;
      // CLOSED: the browser gave up (an HTTP error, a proxy's 502 during a restart): try again ourselves,
      // resuming after the last event this page received. Otherwise the browser is reconnecting itself.
      if (source.readyState === EventSource.CLOSED) scheduleReopen();
      render();
    };
    source.addEventListener("activity", onActivity);
    source.addEventListener("revoked", onRevoked);
    source.addEventListener("superseded", onSuperseded);
    render();
  }

  function scheduleReopen() {
    if (reopenTimer || stopped) return;
    reopenTimer = setTimeout(reopen, reopenDelay);
    reopenDelay = Math.min(reopenDelay * 2, 15000);
  }

  function reopen() {
    clearTimeout(reopenTimer);
    reopenTimer = null;
    if (stopped) return;
    if (source) source.close();
    connect();
  }

  function onRevoked(message) {
    var reason = null;
    try {
      reason = JSON.parse(message.data).reason;
    } catch (e) { /* an older server sent no reason: it was the membership */ }
    if (reason === "logged-out") stop("stopped", "Stopped: you are logged out");
    else stop("stopped", "Stopped: you are no longer a member");
  }

  // Too many live pages open for this user or address: the newer ones stay live, this one stops (a page
  // that reconnected would only take the slot of another, in turn).
  function onSuperseded() {
    stop("paused", "Paused: too many live pages open; reload to resume");
  }

  function onActivity(message) {
    var data;
    try {
      data = JSON.parse(message.data);
    } catch (e) {
      return;
    }
    var seq = toInt(data && data.seq);
    if (seq === null || seq <= seen) return;  // already shown: nothing twice
    seen = seq;
    nav.dataset.lastSeq = String(seq);
    pending.push(data);
    if (!flushTimer) flushTimer = setTimeout(flush, COALESCE_MS);
  }

  // ---- refreshing the regions ----------------------------------------------------------------------

  function flush() {
    flushTimer = null;
    if (refreshing || retryTimer || stopped) return;  // the running refresh, or the retry, takes these too
    var events = pending;
    pending = [];
    refreshing = true;
    refreshRegions().then(function (outcome) {
      refreshing = false;
      if (outcome === "ended") {
        stop("stopped", "Stopped: you are logged out");
        return;
      }
      failures = 0;
      announce(events);
      render();
      if (pending.length && !flushTimer) flushTimer = setTimeout(flush, 0);
    }, function () {
      // Not shown: the events stay pending (ahead of any that came meanwhile) and are tried again.
      refreshing = false;
      pending = events.concat(pending);
      failures += 1;
      render();
      scheduleRetry();
    });
  }

  function scheduleRetry() {
    if (retryTimer || stopped) return;
    var delay = Math.min(RETRY_FIRST_MS * Math.pow(2, failures - 1), RETRY_MAX_MS);
    retryTimer = setTimeout(function () {
      retryTimer = null;
      flush();
    }, delay);
  }

  function retryNow() {
    if (!retryTimer) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    flush();
  }

  // Resolves "ok" once the regions show the page as the server has it now, "ended" when the session has
  // ended (the request was sent to the log-in page); rejects on anything else, which is tried again.
  function refreshRegions() {
    if (!document.querySelector("[data-live-region]")) return Promise.resolve("ok");
    var url = location.href.split("#")[0];
    return fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"X-Live-Refresh": "1"}})
      .then(function (response) {
        if (response.redirected) return "ended";
        if (!(response.ok || response.status === 400)) throw new Error("refresh failed: HTTP " + response.status);
        return response.text().then(function (html) {
          swap(new DOMParser().parseFromString(html, "text/html"));
          return "ok";
        });
      });
  }

  function keysOf(root) {
    var keys = {};
    root.querySelectorAll("[data-entry-id], [data-seq]").forEach(function (el) {
      keys[itemKey(el)] = true;
    });
    return keys;
  }

  function itemKey(el) {
    return el.hasAttribute("data-entry-id") ? "e" + el.getAttribute("data-entry-id") : "s" + el.getAttribute("data-seq");
  }

  function figuresOf(root) {
    var figures = {};
    root.querySelectorAll("[data-figure][data-cents]").forEach(function (el) {
      figures[figureKey(el)] = el.getAttribute("data-cents");
    });
    return figures;
  }

  function figureKey(el) {
    var row = el.closest("[data-partner]");
    return (row ? row.getAttribute("data-partner") : "") + "|" + el.getAttribute("data-figure");
  }

  function rememberFocus() {
    var active = document.activeElement;
    if (!active || active === document.body) return null;
    var region = active.closest("[data-live-region]");
    if (!region) return null;  // focus outside the regions is never touched
    return {
      region: region.getAttribute("data-live-region"),
      id: active.id,
      index: Array.prototype.indexOf.call(region.querySelectorAll(FOCUSABLE), active)
    };
  }

  function restoreFocus(focus) {
    if (!focus) return;
    var region = findRegion(document, focus.region);
    if (!region) return;
    var target = (focus.id && document.getElementById(focus.id)) || region.querySelectorAll(FOCUSABLE)[focus.index];
    if (target && region.contains(target)) target.focus({preventScroll: true});
  }

  function findRegion(doc, name) {
    var all = doc.querySelectorAll("[data-live-region]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-live-region") === name) return all[i];
    }
    return null;
  }

  function swap(doc) {
    var focus = rememberFocus();
    document.querySelectorAll("[data-live-region]").forEach(function (old) {
      var fresh = findRegion(doc, old.getAttribute("data-live-region"));
      if (!fresh) return;
      var html = fresh.outerHTML;
      if (old.__liveHtml === undefined) old.__liveHtml = old.outerHTML;
      if (old.__liveHtml === html) return;  // unchanged: leave it (and any highlight) alone
      var knownItems = keysOf(old);
      var knownFigures = figuresOf(old);
      var node = document.importNode(fresh, true);
      node.__liveHtml = html;
      old.replaceWith(node);
      node.querySelectorAll("[data-entry-id], [data-seq]").forEach(function (el) {
        if (!knownItems[itemKey(el)]) highlight(el, "live-new");
      });
      node.querySelectorAll("[data-figure][data-cents]").forEach(function (el) {
        var before = knownFigures[figureKey(el)];
        if (before !== undefined && before !== el.getAttribute("data-cents")) highlight(el, "live-changed");
      });
    });
    // Hidden values that belong to what a region shows (the settle-up fingerprint) follow it, and so
    // does the visibility of a form that only makes sense for what is shown; typed values are never touched.
    document.querySelectorAll("input[type=hidden][data-live-sync]").forEach(function (input) {
      var fresh = doc.querySelector('input[type=hidden][data-live-sync="' + input.getAttribute("data-live-sync") + '"]');
      if (fresh) input.value = fresh.value;
    });
    document.querySelectorAll("[data-live-hidden]").forEach(function (el) {
      var fresh = doc.querySelector('[data-live-hidden="' + el.getAttribute("data-live-hidden") + '"]');
      if (fresh) el.hidden = fresh.hidden;
    });
    restoreFocus(focus);
  }

  function highlight(el, cls) {
    el.classList.add(cls);
    setTimeout(function () { el.classList.remove(cls); }, HIGHLIGHT_MS);
  }

  // ---- telling the viewer --------------------------------------------------------------------------

  function announce(events) {
    events.forEach(function (data) {
      if (data.summary) toast(data);
      if (alerts(data)) showAlert(data);
    });
  }

  function toast(data) {
    if (!toastsEl) return;
    var el = document.createElement("div");
    el.className = "live-toast";
    el.dataset.seq = String(data.seq);
    el.textContent = data.summary;
    toastsEl.appendChild(el);
    while (toastsEl.children.length > MAX_TOASTS) toastsEl.removeChild(toastsEl.firstChild);
    setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, TOAST_MS);
  }

  // The member's own choice: entries by another partner of at least their threshold, reversals included.
  function alerts(data) {
    var entry = data.entry;
    if (threshold === null || !entry) return false;
    if (ownPartner !== null && entry.partner_id === ownPartner) return false;
    return Math.abs(entry.amount) >= threshold;
  }

  function showAlert(data) {
    if (!alertsEl) return;
    var box = document.createElement("div");
    box.className = "live-alert";
    box.setAttribute("role", "alert");
    box.dataset.seq = String(data.seq);
    var text = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = "Entry by " + data.entry.partner + " above your alert amount: ";
    text.appendChild(strong);
    text.appendChild(document.createTextNode(data.summary));
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "live-dismiss";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", function () { box.parentNode.removeChild(box); });
    box.appendChild(text);
    box.appendChild(dismiss);
    alertsEl.appendChild(box);
  }

  // ---- page life -----------------------------------------------------------------------------------

  window.addEventListener("pagehide", function () {
    if (source) source.close();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !stopped) reopen();  // back from the back/forward cache: resume after `seen`
  });
  window.addEventListener("offline", render);
  window.addEventListener("online", function () {
    if (stopped) return;
    if (!source || source.readyState === EventSource.CLOSED) reopen();
    render();  // the stream may have survived: then the page is live again at once
    retryNow();
  });
  setInterval(render, CHECK_MS);  // whatever no event told us (a stream that closed or came back quietly)

  connect();
})();
