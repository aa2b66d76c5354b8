/* regbus status wall: polls the bus's /status every 2 s and updates the tiles in place.
   No framework, no build step: served inline by the bus (monitoring/http.py). */
(function () {
  "use strict";

  var POLL_MS = 2000; // how often the page asks
  var TIMEOUT_MS = 4000; // an answer later than this counts as none
  var STALE_MS = 6500; // no good answer for this long: say so
  var WORDS = { up: "Up", degraded: "Degraded", down: "Down", unknown: "Unknown" };
  var GLYPHS = { up: "\u2713", degraded: "\u25B2", down: "\u2715", unknown: "?" };
  var SVG = "http://www.w3.org/2000/svg";

  var body = document.body;
  var grid = document.getElementById("grid");
  var template = document.getElementById("tile-template");
  var announcer = document.getElementById("announce");
  var staleBox = document.getElementById("stale");
  var source = body.getAttribute("data-source") || "status?history=1";

  var state = {
    updates: 0, // good answers rendered
    failures: 0, // polls that got no good answer
    lastOk: Date.now(), // the page itself came from the bus just now
    lastUpdate: body.getAttribute("data-updated") || "",
    skew: 0, // server clock minus this clock, ms
    lastError: "",
    shown: {}, // registry -> health announced so far
  };
  window.regbusWall = state; // for tests and curious operators

  grid.querySelectorAll(".tile").forEach(function (tile) {
    state.shown[tile.getAttribute("data-registry")] = tile.getAttribute("data-state");
  });

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(ms) {
    var d = new Date(ms);
    var now = new Date(Date.now() + state.skew);
    var hms = two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
    if (d.toDateString() === now.toDateString()) return hms;
    return d.toLocaleDateString(undefined, { day: "numeric", month: "short" }) + " " + hms;
  }

  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " h " + two(m % 60) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  function percent(rate) {
    if (rate > 0 && rate < 0.01) return "<1%";
    return Math.round(rate * 100) + "%";
  }

  function millis(ms) {
    return ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  }

  function field(tile, name) {
    return tile.querySelector('[data-f="' + name + '"]');
  }

  function setText(tile, name, text) {
    var el = field(tile, name);
    if (el && el.textContent !== text) el.textContent = text;
    return el;
  }

  // The breaker where it says more than the tile's state (an up tile's is closed).
  function breaker(row) {
    if (row.breaker === "half_open") return "breaker half-open: probing \u00B7 ";
    var wait = Number(row.retry_after_seconds) || 0;
    if (row.breaker === "open") {
      return "breaker open" + (wait > 0 ? ", next probe in " + Math.ceil(wait) + " s" : "") + " \u00B7 ";
    }
    return row.health === "up" || row.health === "unknown" ? "" : "breaker " + row.breaker + " \u00B7 ";
  }

  function sparkline(svg, history, interval) {
    var calls = (history && history.calls) || [];
    var fails = (history && history.failures) || [];
    var width = Number(svg.getAttribute("data-points")) || 90;
    var height = 24;
    var n = Math.min(calls.length, width);
    calls = calls.slice(-n);
    fails = fails.slice(-n);
    var key = calls.join(",") + "|" + fails.join(",");
    if (svg.getAttribute("data-drawn") === key) return null; // new points come every 10 s
    svg.setAttribute("data-drawn", key);
    var top = Math.max.apply(null, [1].concat(calls));
    function y(v) {
      return (height - (v / top) * (height - 1)).toFixed(2);
    }
    function steps(values) {
      var x0 = width - values.length;
      var d = "";
      for (var i = 0; i < values.length; i++) {
        d += (i ? "L" : "M") + (x0 + i) + " " + y(values[i]) + "L" + (x0 + i + 1) + " " + y(values[i]);
      }
      return d;
    }
    function area(values) {
      if (!values.length) return "";
      return "M" + (width - values.length) + " " + height + "L" + steps(values).slice(1) +
        "L" + width + " " + height + "Z";
    }
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var base = document.createElementNS(SVG, "line");
    base.setAttribute("class", "base");
    base.setAttribute("x1", "0");
    base.setAttribute("x2", String(width));
    base.setAttribute("y1", String(height));
    base.setAttribute("y2", String(height));
    base.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(base);
    [
      ["calls-area", area(calls)],
      ["calls-line", steps(calls)],
      ["fails", area(fails)],
    ].forEach(function (part) {
      if (!part[1]) return;
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("class", part[0]);
      path.setAttribute("d", part[1]);
      path.setAttribute("vector-effect", "non-scaling-stroke");
      svg.appendChild(path);
    });
    var total = calls.reduce(function (a, b) { return a + b; }, 0);
    var failed = fails.reduce(function (a, b) { return a + b; }, 0);
    var minutes = Math.round((width * interval) / 60);
    var text =
      minutes + " min: " + total + " call" + (total === 1 ? "" : "s") +
      (total ? ", " + failed + " failed" : "");
    svg.setAttribute("aria-label", "calls per " + interval + " s, " + text);
    return text;
  }

  function newTile(row) {
    var tile = template.content.firstElementChild.cloneNode(true);
    tile.id = "tile-" + row.id;
    tile.setAttribute("data-registry", row.id);
    tile.setAttribute("aria-labelledby", "name-" + row.id);
    field(tile, "id").id = "name-" + row.id;
    return tile;
  }

  function fill(tile, row, now, interval) {
    var health = WORDS[row.health] ? row.health : "unknown";
    if (tile.getAttribute("data-state") !== health) tile.setAttribute("data-state", health);
    tile.setAttribute("data-breaker", row.breaker || "");
    setText(tile, "id", row.id);
    setText(tile, "name", row.name || "");
    var nameLine = tile.querySelector(".tile-name");
    if (nameLine) nameLine.title = (row.name || "") + " \u00B7 " + (row.protocol || "");
    setText(tile, "glyph", GLYPHS[health]);
    setText(tile, "state", WORDS[health]);
    var since = row.health_since ? Date.parse(row.health_since) : NaN;
    var time = setText(tile, "since", isNaN(since) ? "\u2014" : clock(since));
    if (time && row.health_since) time.setAttribute("datetime", row.health_since);
    setText(tile, "age", isNaN(since) ? "" : "(" + ago(now - since) + ")");
    var errors = row.error_rate_1m == null ? "\u2014" : percent(row.error_rate_1m);
    setText(tile, "errors", errors);
    setText(tile, "calls", row.calls_1m ? "of " + row.calls_1m : "no calls");
    setText(tile, "p99", row.recent_calls ? millis(Number(row.p99_ms) || 0) : "\u2014");
    var spark = field(tile, "spark");
    var caption = spark ? sparkline(spark, row.history, interval) : null;
    if (caption !== null) setText(tile, "caption", caption);
    setText(tile, "breaker", breaker(row));
    setText(tile, "protocol", row.protocol || "");
    setText(tile, "inflight", row.in_flight ? row.in_flight + " in flight \u00B7 " : "");
  }

  function announce(text) {
    var line = document.createElement("p");
    line.textContent = text;
    announcer.appendChild(line);
    while (announcer.childNodes.length > 5) announcer.removeChild(announcer.firstChild);
  }

  function header(summary, updatedAt) {
    var overall = document.getElementById("overall");
    var word = WORDS[summary.overall] ? summary.overall : "unknown";
    overall.setAttribute("data-state", word);
    var words = {
      up: "All up",
      degraded: "Degraded",
      down: "All down",
      unknown: "No calls yet",
    };
    overall.textContent = words[word];
    ["up", "degraded", "down", "unknown"].forEach(function (h) {
      var el = document.getElementById("n-" + h);
      if (el) el.textContent = String(summary[h] || 0);
    });
    var trouble = [];
    if (summary.down) trouble.push(summary.down + " down");
    if (summary.degraded) trouble.push(summary.degraded + " degraded");
    document.title = (trouble.length ? trouble.join(", ") + " \u00B7 " : "") + "regbus: registry status";
    var updated = document.getElementById("updated");
    updated.textContent = clock(updatedAt);
    updated.setAttribute("datetime", summary.updated_at);
  }

  function render(data) {
    var summary = data.summary || {};
    var updatedAt = Date.parse(summary.updated_at) || Date.now();
    state.skew = updatedAt - Date.now();
    var interval = Number(summary.history_interval_seconds) || 10;
    var seen = {};
    var previous = null;
    (data.registries || []).forEach(function (row) {
      seen[row.id] = true;
      var tile = document.getElementById("tile-" + row.id);
      if (!tile) {
        tile = newTile(row);
        grid.insertBefore(tile, previous ? previous.nextSibling : grid.firstChild);
      }
      fill(tile, row, updatedAt, interval);
      var was = state.shown[row.id];
      if (was && was !== row.health) {
        announce(row.id + " is now " + WORDS[row.health] + " (was " + WORDS[was] + ")");
      }
      state.shown[row.id] = row.health;
      previous = tile;
    });
    grid.querySelectorAll(".tile").forEach(function (tile) {
      if (!seen[tile.getAttribute("data-registry")]) tile.remove();
    });
    header(summary, updatedAt);
    var note = document.getElementById("worker");
    if (note && data.worker) {
      // Under --workers any of them may answer a poll: say which one this update is from.
      var who = "worker " + data.worker.index + " (pid " + data.worker.pid + ")";
      if (note.textContent.indexOf(who + ":") !== 0) {
        note.textContent =
          who + ": registry state as this worker sees it; other workers keep their own" +
          " (error rates count every worker's calls)";
      }
    }
    state.lastOk = Date.now();
    state.lastUpdate = summary.updated_at || "";
    state.updates += 1;
    checkStale();
  }

  function checkStale() {
    // The banner is an alert: its text changes only when the news does, not every second.
    var stale = Date.now() - state.lastOk > STALE_MS;
    var text = "";
    if (stale) {
      var last = Date.parse(state.lastUpdate);
      text =
        "No updates since " + (isNaN(last) ? "this page loaded" : clock(last)) +
        ": the bus is not answering" + (state.lastError ? " (" + state.lastError + ")" : "") +
        ". The tiles below are out of date; still trying every " + POLL_MS / 1000 + " s.";
    }
    if (staleBox.textContent !== text) staleBox.textContent = text;
    body.classList.toggle("is-stale", stale);
  }

  function poll() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(source, { cache: "no-store", signal: controller.signal })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        state.lastError = "";
        render(data);
      })
      .catch(function (error) {
        state.failures += 1;
        var message = String((error && error.message) || "");
        state.lastError =
          error && error.name === "AbortError"
            ? "no answer in " + TIMEOUT_MS / 1000 + " s"
            : message.indexOf("HTTP ") === 0
              ? message
              : "unreachable";
        checkStale();
      })
      .then(function () {
        clearTimeout(timer);
        setTimeout(poll, POLL_MS);
      });
  }

  setInterval(checkStale, 1000);
  poll();
})();
