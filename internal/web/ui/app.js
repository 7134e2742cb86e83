// ltk web UI: one history fetch on load, then one server-sent-event stream
// (/api/events) for everything live. No framework; uPlot draws the charts.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const MAX_POINTS = 10800; // as many as the server keeps

  // Chart history, columns as /api/history sends them (time in Unix seconds).
  const hist = { time: [], rps: [], fail: [], p50: [], p95: [], users: [] };
  let lastTime = 0;
  let state = "";
  let capacity = 0;
  let formMode = "";       // "", "start" or "edit"
  let formDismissed = false;
  let stopAt = 0;
  let historyGen = -1;     // the server's history generation the charts show
  let waiting = false;     // the master waits for workers: no Start yet
  let lastReport = null;   // the latest report, re-rendered when the sort changes
  let sortKey = "";        // the stats table's sort column (a report key); "" = the server's order
  let sortDir = 1;         // 1 ascending, -1 descending
  // The percentile beside the median: Locust 2.12's UI shows the 90th,
  // later ones the 95th. The header's label switches; the choice is kept.
  let pctKey = localStorage.getItem("ltk.pct") === "95" ? "response_time_percentile_0.95" : "ninetieth_response_time";

  // ---- formatting -------------------------------------------------------
  const fmtInt = (n) => Number(n || 0).toLocaleString("en-US");
  const fmtMS = (v) => (v == null ? "" : v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString("en-US"));
  const fmt2 = (v) => Number(v || 0).toFixed(2);
  const fmtPct = (r) => {
    const p = (r || 0) * 100;
    return (p === 0 ? "0" : p < 0.1 ? "<0.1" : p.toFixed(p < 10 ? 1 : 0)) + "%";
  };
  const fmtBytes = (n) => {
    if (!n) return "0 B";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  };
  const pad2 = (n) => String(n).padStart(2, "0");
  const fmtClock = (unix) => {
    const d = new Date(unix * 1000);
    return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
  };
  const fmtAgo = (unix) => {
    if (!unix) return "never";
    const s = Math.max(0, Math.round(Date.now() / 1000 - unix));
    return s < 60 ? s + " s ago" : Math.floor(s / 60) + " min ago";
  };

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) tr.appendChild(c);
    return tr;
  }

  // ---- charts -----------------------------------------------------------
  const charts = {};

  function chartWidth() {
    return Math.max(320, document.querySelector("main").clientWidth - 48 - 26);
  }

  function makeChart(el, title, series, yLabel) {
    const opts = {
      title: title,
      width: chartWidth(),
      height: 250,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [{ value: (u, v) => (v == null ? "–" : fmtClock(v)) }].concat(series.map((s) => ({
        label: s.label, stroke: s.color, width: 2, fill: s.fill || undefined,
        points: { show: false },
        value: (u, v) => (v == null ? "–" : v.toFixed(s.decimals)),
      }))),
      axes: [
        {
          grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e3e8ef" }, space: 90,
          incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600],
          values: (u, splits) => splits.map(fmtClock),
        },
        { label: yLabel, grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e3e8ef" }, size: 60 },
      ],
    };
    return new uPlot(opts, [[]].concat(series.map(() => [])), el);
  }

  function initCharts() {
    charts.rps = makeChart($("chart-rps"), "Total requests per second", [
      { label: "RPS", color: "#16a34a", fill: "rgba(22,163,74,0.08)", decimals: 2 },
      { label: "Failures/s", color: "#dc2626", decimals: 2 },
    ], "per second");
    charts.rt = makeChart($("chart-rt"), "Response times (ms)", [
      { label: "Median", color: "#2563eb", decimals: 2 },
      { label: "95th percentile", color: "#9333ea", decimals: 2 },
    ], "ms");
    charts.devices = makeChart($("chart-devices"), "Devices running", [
      { label: "Devices", color: "#0891b2", fill: "rgba(8,145,178,0.08)", decimals: 0 },
    ], "devices");
  }

  function drawCharts() {
    charts.rps.setData([hist.time, hist.rps, hist.fail]);
    charts.rt.setData([hist.time, hist.p50, hist.p95]);
    charts.devices.setData([hist.time, hist.users]);
  }

  // chartPNG returns a PNG data URL of a chart: its title, its canvas and
  // its legend on white, as the page shows them.
  function chartPNG(name) {
    const u = charts[name];
    const src = u.ctx.canvas;
    const dpr = src.width / u.width || 1;
    const band = Math.round(28 * dpr);
    const c = document.createElement("canvas");
    c.width = src.width;
    c.height = src.height + 2 * band;
    const g = c.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, c.width, c.height);
    g.fillStyle = "#1f2937";
    g.font = Math.round(14 * dpr) + "px system-ui, sans-serif";
    g.textBaseline = "middle";
    g.fillText(u.root.querySelector(".u-title").textContent, 8 * dpr, band / 2);
    g.drawImage(src, 0, band);
    let x = 8 * dpr;
    for (const s of u.series.slice(1)) {
      g.fillStyle = s._stroke || s.stroke || "#000";
      g.fillRect(x, src.height + band + band / 2 - 2 * dpr, 14 * dpr, 4 * dpr);
      x += 20 * dpr;
      g.fillStyle = "#1f2937";
      g.fillText(s.label, x, src.height + band + band / 2);
      x += g.measureText(s.label).width + 24 * dpr;
    }
    return c.toDataURL("image/png");
  }

  function downloadChart(name) {
    const a = document.createElement("a");
    a.href = chartPNG(name);
    const d = new Date();
    a.download = "ltk-" + name + "-" + d.getFullYear() + pad2(d.getMonth() + 1) + pad2(d.getDate()) + "-" +
      pad2(d.getHours()) + pad2(d.getMinutes()) + pad2(d.getSeconds()) + ".png";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function resizeCharts() {
    const w = chartWidth();
    for (const c of Object.values(charts)) c.setSize({ width: w, height: 250 });
  }

  function setHistory(h) {
    hist.time = h.time.slice();
    hist.rps = h.current_rps.slice();
    hist.fail = h.current_fail_per_sec.slice();
    hist.p50 = h["response_time_percentile_0.5"].slice();
    hist.p95 = h["response_time_percentile_0.95"].slice();
    hist.users = h.user_count.slice();
    lastTime = hist.time.length ? hist.time[hist.time.length - 1] : 0;
    drawCharts();
  }

  function addPoint(p) {
    if (!p || p.time <= lastTime) return;
    hist.time.push(p.time);
    hist.rps.push(p.current_rps);
    hist.fail.push(p.current_fail_per_sec);
    hist.p50.push(p["response_time_percentile_0.5"]);
    hist.p95.push(p["response_time_percentile_0.95"]);
    hist.users.push(p.user_count);
    if (hist.time.length > MAX_POINTS) for (const k of Object.keys(hist)) hist[k].shift();
    lastTime = p.time;
    drawCharts();
  }

  async function loadHistory() {
    const r = await fetch("api/history", { cache: "no-store" });
    if (r.ok) setHistory(await r.json());
  }

  // ---- tables -----------------------------------------------------------
  function statsRow(s) {
    return [
      cell(s.method, "l"), cell(s.name, "l"), cell(fmtInt(s.num_requests)),
      cell(fmtInt(s.num_failures), s.num_failures ? "fail" : ""),
      cell(fmtMS(s["response_time_percentile_0.5"])), cell(fmtMS(s[pctKey])),
      cell(fmtMS(s["response_time_percentile_0.99"])), cell(fmtMS(s.avg_response_time)),
      cell(fmtMS(s.min_response_time)), cell(fmtMS(s.max_response_time)),
      cell(fmtInt(Math.round(s.avg_content_length))), cell(fmt2(s.current_rps)), cell(fmt2(s.current_fail_per_sec)),
    ];
  }

  // sorted returns the entries ordered by the sort column (the Aggregated
  // row stays last, in the footer).
  function sorted(entries) {
    if (!sortKey) return entries;
    return entries.slice().sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === "string" ? String(x).localeCompare(String(y)) : (x || 0) - (y || 0);
      return c * sortDir || a.name.localeCompare(b.name);
    });
  }

  function sortBy(key) {
    sortDir = key === sortKey ? -sortDir : 1;
    sortKey = key;
    for (const th of document.querySelectorAll("#stats-table th[data-sort]")) {
      if (th.dataset.sort === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    if (lastReport) renderStats(lastReport);
  }

  function setPercentile(key) {
    const was = pctKey;
    pctKey = key;
    localStorage.setItem("ltk.pct", key === "ninetieth_response_time" ? "90" : "95");
    $("pct-label").textContent = key === "ninetieth_response_time" ? "90%ile" : "95%ile";
    $("pct-header").dataset.sort = key;
    if (sortKey === was) sortKey = key;
    if (lastReport) renderStats(lastReport);
  }

  function renderStats(report) {
    lastReport = report;
    const rows = report.stats || [];
    const body = $("stats-table").tBodies[0];
    const foot = $("stats-table").tFoot;
    body.replaceChildren(...sorted(rows.slice(0, -1)).map((s) => row(statsRow(s))));
    foot.replaceChildren(...rows.slice(-1).map((s) => row(statsRow(s))));
    const empty = rows.length <= 1;
    $("stats-table").hidden = empty;
    $("stats-empty").hidden = !empty;
  }

  function renderFailures(errors) {
    $("failures-table").tBodies[0].replaceChildren(...errors.map((e) =>
      row([cell(fmtInt(e.occurrences)), cell(e.method, "l"), cell(e.name, "l"), cell(e.error, "l msg"),
        cell((e.examples || []).join(" "), "l examples")])));
    $("failures-table").hidden = errors.length === 0;
    $("failures-empty").hidden = errors.length > 0;
    const total = errors.reduce((n, e) => n + e.occurrences, 0);
    $("failures-count").hidden = total === 0;
    $("failures-count").textContent = fmtInt(total);
  }

  function renderExceptions(xs) {
    $("exceptions-table").tBodies[0].replaceChildren(...xs.map((x) =>
      row([cell(fmtInt(x.count)), cell(x.msg, "l msg"), cell(x.traceback, "l msg"), cell(x.nodes, "l")])));
    $("exceptions-table").hidden = xs.length === 0;
    $("exceptions-empty").hidden = xs.length > 0;
    $("exceptions-count").hidden = xs.length === 0;
    $("exceptions-count").textContent = fmtInt(xs.length);
  }

  function renderWorkers(ws) {
    $("workers-table").tBodies[0].replaceChildren(...ws.map((w) => row([
      cell(String(w.ordinal)), cell(w.id, "l"), cell(w.host, "l"), cell(w.state, "l"),
      cell(fmtInt(w.user_count)), cell(w.cpu_usage.toFixed(1) + "%"), cell(fmtBytes(w.memory_usage)),
      cell(fmtAgo(w.last_heartbeat)),
    ])));
    $("workers-table").hidden = ws.length === 0;
    $("workers-empty").hidden = ws.length > 0;
  }

  // ---- header and controls ----------------------------------------------
  // renderScenario names what the devices do: a scenario and its kinds with
  // their shares of the fleet (back ends by their count), or the behaviour.
  function renderScenario(ev) {
    const sc = ev.scenario;
    if (!sc) {
      $("scenario").textContent = ev.behavior || "echo";
      $("scenario").title = "the built-in " + (ev.behavior || "echo") + " behaviour";
      return;
    }
    const kinds = (sc.kinds || []).map(k => k.count ? k.kind + " ×" + k.count : k.kind + " " + fmtPct(k.share));
    $("scenario").textContent = sc.name + (kinds.length ? ": " + kinds.join(", ") : "");
    $("scenario").title = "scenario " + sc.name + ": kinds and their shares of the devices";
  }

  function renderHeader(ev) {
    const r = ev.report;
    state = r.state;
    capacity = ev.capacity;
    stopAt = ev.stop_at;
    // A master that has fewer workers than it expects is not ready: it
    // says whom it waits for and offers no Start.
    waiting = state === "ready" && ev.workers_expected > ev.workers_connected;
    const shown = waiting ? "waiting" : r.state;
    $("state").textContent = shown;
    $("state").className = "state " + shown;
    $("state").title = waiting ? "waiting for workers: " + ev.workers_connected + " of " + ev.workers_expected + " connected" : "";
    $("broker").textContent = ev.broker || "–";
    $("broker").title = "the broker the devices connect to: " + (ev.broker || "unknown");
    renderScenario(ev);
    $("devices").textContent = fmtInt(r.user_count);
    $("workers").textContent = fmtInt(r.worker_count);
    $("rps").textContent = fmt2(r.total_rps);
    $("fail-ratio").textContent = fmtPct(r.fail_ratio);
    $("version").textContent = "ltk " + ev.version;
    $("user_count").max = capacity;
    $("capacity-hint").textContent = waiting
      ? "Waiting for workers: " + ev.workers_connected + " of " + ev.workers_expected + " connected. Start them (ltk worker --master-host …); the test can start once they are here."
      : "The device list holds " + fmtInt(capacity) + " devices.";
    $("start-button").disabled = waiting && formMode !== "edit";
    renderStopAt();

    const active = state === "spawning" || state === "running";
    $("new-button").hidden = active || state === "stopping" || state === "ready";
    $("edit-button").hidden = !active;
    $("stop-button").hidden = !(active || state === "stopping");
    $("stop-button").disabled = state === "stopping";
    $("stop-button").textContent = state === "stopping" ? "Stopping…" : "Stop";
    if (state === "ready" && !formDismissed && formMode === "") showForm("start");
    if (active && formMode === "start") hideForm();
  }

  function renderStopAt() {
    if (!stopAt) { $("stop-at").textContent = ""; return; }
    const left = Math.max(0, Math.round(stopAt - Date.now() / 1000));
    const m = Math.floor(left / 60), s = left % 60;
    $("stop-at").textContent = "Stops at " + new Date(stopAt * 1000).toLocaleTimeString() +
      " (" + (m ? m + " min " : "") + s + " s left)";
  }

  function showForm(mode) {
    formMode = mode;
    const edit = mode === "edit";
    if (edit) $("user_count").value = $("devices").textContent.replace(/,/g, "");
    $("swarm-title").textContent = edit ? "Change the running test" : "Start a new load test";
    $("start-button").textContent = edit ? "Update" : "Start";
    $("run_time").placeholder = edit ? "keep the current run time" : "until stopped";
    $("cancel-button").hidden = state === "ready" && !edit;
    $("swarm-error").hidden = true;
    $("swarm-panel").hidden = false;
    $("user_count").focus();
  }

  function hideForm() {
    formMode = "";
    $("swarm-panel").hidden = true;
  }

  async function submitSwarm(e) {
    e.preventDefault();
    const body = new URLSearchParams(new FormData($("swarm-form")));
    $("start-button").disabled = true;
    try {
      const r = await fetch("swarm", { method: "POST", body: body });
      const res = await r.json().catch(() => ({ success: false, message: "HTTP " + r.status }));
      if (!res.success) {
        $("swarm-error").textContent = res.message;
        $("swarm-error").hidden = false;
        return;
      }
      hideForm();
    } catch (err) {
      $("swarm-error").textContent = "Cannot reach the master: " + err;
      $("swarm-error").hidden = false;
    } finally {
      $("start-button").disabled = waiting && formMode !== "edit";
    }
  }

  // ---- live updates -----------------------------------------------------
  function onStats(msg) {
    const ev = JSON.parse(msg.data);
    if (historyGen !== -1 && ev.history_gen !== historyGen) {
      // A new test started and the server began a new history: start over.
      setHistory({ time: [], current_rps: [], current_fail_per_sec: [], "response_time_percentile_0.5": [],
        "response_time_percentile_0.95": [], user_count: [] });
    }
    historyGen = ev.history_gen;
    renderHeader(ev);
    renderStats(ev.report);
    renderFailures(ev.report.errors || []);
    renderExceptions(ev.exceptions || []);
    renderWorkers(ev.report.workers || []);
    addPoint(ev.point);
  }

  function connect() {
    const es = new EventSource("api/events");
    let broken = false;
    es.addEventListener("stats", onStats);
    es.addEventListener("open", () => {
      $("conn").textContent = "live";
      $("conn").className = "conn";
      if (broken) loadHistory(); // catch up on points missed while away
      broken = false;
    });
    es.addEventListener("error", () => {
      broken = true;
      $("conn").textContent = "reconnecting…";
      $("conn").className = "conn down";
    });
  }

  // ---- wiring -----------------------------------------------------------
  function selectTab(name) {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.tab === name);
    for (const p of document.querySelectorAll(".tab-page")) p.classList.toggle("active", p.id === "tab-" + name);
    if (name === "charts") resizeCharts();
    history.replaceState(null, "", "#" + name);
  }

  async function main() {
    initCharts();
    for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => selectTab(t.dataset.tab));
    $("swarm-form").addEventListener("submit", submitSwarm);
    $("new-button").addEventListener("click", () => showForm("start"));
    $("edit-button").addEventListener("click", () => showForm("edit"));
    $("cancel-button").addEventListener("click", () => { formDismissed = true; hideForm(); });
    $("stop-button").addEventListener("click", () => fetch("stop"));
    $("reset-button").addEventListener("click", () => fetch("stats/reset"));
    for (const th of document.querySelectorAll("#stats-table th[data-sort]")) {
      th.addEventListener("click", () => sortBy(th.dataset.sort));
    }
    $("pct-label").addEventListener("click", (e) => {
      e.stopPropagation();
      setPercentile(pctKey === "ninetieth_response_time" ? "response_time_percentile_0.95" : "ninetieth_response_time");
    });
    setPercentile(pctKey);
    for (const b of document.querySelectorAll(".chart-dl")) b.addEventListener("click", () => downloadChart(b.dataset.chart));
    window.addEventListener("resize", resizeCharts);
    setInterval(renderStopAt, 1000);
    const tab = location.hash.slice(1);
    if (document.getElementById("tab-" + tab)) selectTab(tab);
    await loadHistory().catch(() => {});
    connect();
  }

  // For tests and the curious: the charts and their data.
  window.ltk = { charts: charts, hist: hist, chartPNG: chartPNG };
  main();
})();
