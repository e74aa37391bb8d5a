// Coffer dashboard: the only script. Everything works without it; it adds
// 1. local times: every <time datetime> is shown in the viewer's time zone (UTC otherwise);
// 2. live updates: elements with data-live="kind,kind" are re-read from this page's own URL
//    when the server streams one of those event kinds (GET /api/stream, SSE); elements with
//    data-poll="ms" are re-read on that interval (the log viewer);
// 3. a session kept alive while a page is open (POST /api/auth/refresh with the CSRF cookie);
// 4. the embed builder's preview as you type.
(function () {
  "use strict";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      el.title = el.getAttribute("datetime");
      el.textContent = d.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
      });
    });
  }

  var pending = null;
  var busy = false;

  // Re-reads this page and swaps in the regions whose id matches, unless the viewer is typing
  // inside one.
  function refresh(ids) {
    if (busy) { pending = ids; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { location.reload(); throw new Error("logged out"); }
        return r.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        ids.forEach(function (id) {
          var now = document.getElementById(id);
          var next = doc.getElementById(id);
          if (!now || !next) return;
          if (now.contains(document.activeElement) && document.activeElement.tagName !== "BODY") return;
          if (now.innerHTML === next.innerHTML) return;
          now.innerHTML = next.innerHTML;
          localTimes(now);
          now.classList.remove("live-flash");
          void now.offsetWidth;
          now.classList.add("live-flash");
        });
        document.body.dataset.liveVersion = String(Number(document.body.dataset.liveVersion || 0) + 1);
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (pending) { var p = pending; pending = null; refresh(p); }
      });
  }

  var timer = null;
  var queued = {};
  function schedule(id) {
    queued[id] = true;
    if (timer) return;
    timer = setTimeout(function () {
      var ids = Object.keys(queued);
      queued = {}; timer = null;
      refresh(ids);
    }, 150);
  }

  function live() {
    var regions = document.querySelectorAll("[data-live][id]");
    if (!regions.length || !window.EventSource) return;
    var wanted = {};
    regions.forEach(function (el) {
      el.getAttribute("data-live").split(",").forEach(function (k) {
        k = k.trim();
        if (k) (wanted[k] = wanted[k] || []).push(el.id);
      });
    });
    var url = "/api/stream?events=" + encodeURIComponent(Object.keys(wanted).join(","));
    var guild = document.body.getAttribute("data-guild");
    if (guild) url += "&guilds=" + encodeURIComponent(guild);
    var status = document.getElementById("live-status");
    var es = new EventSource(url);
    es.onopen = function () {
      document.body.dataset.live = "on";
      if (status) status.textContent = "live";
    };
    es.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (_) { return; }
      (wanted[e.kind] || []).forEach(schedule);
    };
    es.addEventListener("resync", function () {
      regions.forEach(function (el) { schedule(el.id); });
    });
    es.addEventListener("session_ended", function (m) {
      es.close();
      var reason = "";
      try { reason = JSON.parse(m.data).reason; } catch (_) {}
      // The stream ends when the access token it was opened with expires; with the session
      // still alive, renew the token and listen again (a logout or revocation stays ended).
      if (reason === "token_expired") {
        renew().then(function (ok) {
          if (!ok) return;
          live();
          regions.forEach(function (el) { schedule(el.id); });
        });
      }
    });
    // Close the stream when leaving the page, so it never holds one of the browser's few
    // connections to this host while the next page loads (or sits in the back/forward cache).
    window.addEventListener("pagehide", function () { es.close(); });
    es.onerror = function () { document.body.dataset.live = "off"; };
  }

  function polls() {
    document.querySelectorAll("[data-poll][id]").forEach(function (el) {
      var ms = Math.max(1000, Number(el.getAttribute("data-poll")) || 3000);
      setInterval(function () { if (!document.hidden) schedule(el.id); }, ms);
    });
  }

  function cookie(name) {
    var all = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < all.length; i++) {
      var kv = all[i].split("=");
      if (kv[0] === name || kv[0] === "__Host-" + name) return decodeURIComponent(kv.slice(1).join("="));
    }
    return "";
  }

  // Rotates the session's tokens (new cookies); resolves to whether it worked.
  function renew() {
    var csrf = cookie("csrf_token");
    if (!csrf) return Promise.resolve(false);
    return fetch("/api/auth/refresh", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).then(function (r) { return r.ok; }, function () { return false; });
  }

  function keepAlive() {
    if (!document.querySelector("form[action='/logout']")) return;
    setInterval(renew, 10 * 60 * 1000);
  }

  function embedPreview() {
    var form = document.getElementById("embed-form");
    var out = document.getElementById("embed-preview");
    if (!form || !out) return;
    function set(sel, v) { var el = out.querySelector(sel); if (el) el.textContent = v; }
    function update() {
      var f = new FormData(form);
      set(".title", f.get("title") || "");
      set(".description", f.get("description") || "");
      set(".footer", f.get("footer") || "");
      var c = String(f.get("color") || "").trim();
      if (/^#?[0-9a-fA-F]{6}$/.test(c)) out.style.borderLeftColor = c.charAt(0) === "#" ? c : "#" + c;
    }
    form.addEventListener("input", update);
    update();
  }

  // Back to a page from the back/forward cache: its stream was closed on leaving; open a new
  // one and re-read what may have changed meanwhile.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    live();
    document.querySelectorAll("[data-live][id]").forEach(function (el) { schedule(el.id); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    live();
    polls();
    keepAlive();
    embedPreview();
  });
})();
