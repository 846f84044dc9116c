// ReviewOrleans live dashboard. Plain ES2020, no bundler; uPlot (global `uPlot`) draws every chart.
// Data: the gateway's JSON API (proto3 JSON: lowerCamelCase, int64 as strings, defaults omitted) and the
// server-sent events at `events`. window.dashboard mirrors the data for browser tests.
"use strict";

(() => {
  const HOUR_MS = 3600000;
  const MAX_HISTORY_WINDOWS = 720;
  const VOLUME_WINDOWS = 60;
  const MAX_SHOWN_AT_START = 8; // busiest categories plotted besides "All"
  const AUTO_SHOW_BELOW = 9; // a new category is plotted only while fewer than this are shown
  const ALERTS_LIMIT = 50;
  const LIST_LIMIT = 200;
  const HELLO_WAIT_MS = 2500;
  const RECONNECT_MS = 5000;
  const ALL = "All";
  const ALL_COLOR = "#1f2937";
  // Neighbours in this order are far apart in hue, since categories take colours in the order they are seen.
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#db2777", "#65a30d",
    "#92400e", "#0d9488", "#ca8a04", "#475569", "#c026d3", "#1e3a8a", "#84cc16", "#f43f5e"];

  const state = {
    ready: false,
    windowMs: 0,
    series: new Map(), // category -> points sorted by startMs
    loaded: new Set(), // categories whose history was fetched
    categories: new Set(),
    shown: [],
    colors: new Map(),
    counts: null,
    grades: [],
    anomaly: null,
    detections: [],
    alerts: [],
    priority: [],
    acknowledged: new Set(), // kept out of refetched lists that raced the acknowledgement
    deadLetters: [],
    deadLettersTotal: 0,
    lastEventMs: 0,
  };
  const charts = {};
  const $ = (sel) => document.querySelector(sel);

  // ---------- proto3 JSON helpers ----------

  const num = (v) => (v === undefined || v === null || v === "" ? 0 : Number(v));
  const str = (v) => (v === undefined || v === null ? "" : String(v));
  const arr = (v) => (Array.isArray(v) ? v : []);

  function normWindow(w) {
    const stars = arr(w.starCounts).map(num);
    while (stars.length < 5) stars.push(0);
    return {
      category: str(w.category) || ALL,
      startMs: num(w.windowStartMs),
      count: num(w.count),
      average: num(w.averageExpectedStars),
      negativeShare: num(w.negativeShare),
      starCounts: stars.slice(0, 5),
      isUpdate: Boolean(w.isUpdate),
    };
  }

  const normAttribution = (a) => ({
    feature: str(a.feature), attribution: num(a.attribution), strength: num(a.strength), direction: str(a.direction),
  });

  const normDelivery = (d) => ({
    target: str(d.target), event: str(d.event), state: str(d.state), attempts: num(d.attempts),
    lastError: str(d.lastError), lastAttemptMs: num(d.lastAttemptMs), nextAttemptMs: num(d.nextAttemptMs),
  });

  const normAlert = (a) => ({
    id: str(a.id), rule: str(a.rule), kind: str(a.kind), state: str(a.state) || "firing", category: str(a.category),
    summary: str(a.summary), value: num(a.value), threshold: num(a.threshold), firedMs: num(a.firedMs),
    resolvedMs: num(a.resolvedMs), windowStartMs: num(a.windowStartMs),
    attribution: arr(a.attribution).map(normAttribution), deliveries: arr(a.deliveries).map(normDelivery),
  });

  const normDetection = (d) => ({
    timeMs: num(d.timeMs), score: num(d.score), grade: num(d.grade), anomalyShard: num(d.anomalyShard),
    reviewId: str(d.reviewId), category: str(d.category), attribution: arr(d.attribution).map(normAttribution),
  });

  function normCounts(c) {
    const numMap = (m) => Object.fromEntries(Object.entries(m || {}).map(([k, v]) => [k, num(v)]));
    return {
      totalReviews: num(c.totalReviews), rejectedReviews: num(c.rejectedReviews),
      duplicateReviews: num(c.duplicateReviews), perCategory: numMap(c.perCategory), perSource: numMap(c.perSource),
      allTimeDistinctReviews: num(c.allTimeDistinctReviews),
      // DistinctWindow is window_start_ms/window_end_ms in the proto; startMs/endMs accepted too.
      windows: arr(c.windows).map((w) => {
        const startMs = num(w.windowStartMs ?? w.startMs);
        const endMs = num(w.windowEndMs ?? w.endMs);
        return { startMs, endMs, windowStartMs: startMs, windowEndMs: endMs,
          distinctReviews: num(w.distinctReviews), exact: Boolean(w.exact) };
      }),
    };
  }

  const normPriority = (r) => ({
    reviewId: str(r.reviewId), category: str(r.category), predictedStars: num(r.predictedStars),
    expectedStars: num(r.expectedStars), reviewHeadline: str(r.reviewHeadline), reviewBody: str(r.reviewBody),
    customerId: str(r.customerId), source: str(r.source), receivedMs: num(r.receivedMs),
  });

  const normDeadLetter = (d) => ({
    timeMs: num(d.timeMs), reviewId: str(d.reviewId), field: str(d.field), rule: str(d.rule),
    message: str(d.message), stage: str(d.stage), raw: str(d.raw),
  });

  // ---------- formatting and DOM helpers ----------

  const pad2 = (n) => String(n).padStart(2, "0");
  function fmtTime(ms) {
    if (!ms) return "–";
    const d = new Date(ms);
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }
  const fmtInt = (n) => Math.round(n).toLocaleString();
  const fmtFixed = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
  const fmtPct = (share) => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : "–");
  const truncate = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

  // Builds an element from attributes and children; text goes through textContent, never innerHTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("data-") || k === "title" || k === "type" || k === "value") node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  // Colours go through the CSSOM (allowed under a style-src CSP), not a style attribute.
  function swatch(category) {
    const node = el("span", { class: "swatch" });
    node.style.background = colorOf(category);
    return node;
  }

  function colorOf(category) {
    if (category === ALL) return ALL_COLOR;
    if (!state.colors.has(category)) state.colors.set(category, PALETTE[state.colors.size % PALETTE.length]);
    return state.colors.get(category);
  }

  function setStatusError(message) {
    $("#status-error").textContent = message || "";
  }

  // ---------- fetching ----------

  // x-requested-with marks the dashboard's own requests, so that the gateway can answer a 401 without a Basic
  // challenge (which would make the browser prompt for a password instead of our redirect to the login page).
  async function fetchJson(url, init = {}) {
    const headers = { "x-requested-with": "XMLHttpRequest", ...init.headers };
    const res = await fetch(url, { credentials: "same-origin", ...init, headers });
    if (res.status === 401) {
      location.href = "login";
      throw new Error("not signed in");
    }
    let body = null;
    try { body = await res.json(); } catch { body = null; }
    if (!res.ok) throw new Error((body && body.message) || `${url}: HTTP ${res.status}`);
    return body || {};
  }

  // Runs fn at most once per minGapMs and never twice at a time; a request made while it runs is kept for
  // one more run afterwards, so bursts of events cost one or two fetches.
  function coalesced(fn, minGapMs) {
    let running = false, pending = false, timer = null, lastStart = 0;
    const pump = () => {
      if (running || timer || !pending) return;
      const wait = lastStart + minGapMs - Date.now();
      if (wait > 0) { timer = setTimeout(() => { timer = null; pump(); }, wait); return; }
      pending = false; running = true; lastStart = Date.now();
      Promise.resolve().then(fn).catch((err) => setStatusError(err.message))
        .finally(() => { running = false; pump(); });
    };
    return () => { pending = true; pump(); };
  }

  const historyWindows = () =>
    (state.windowMs > 0 ? Math.min(MAX_HISTORY_WINDOWS, Math.ceil(HOUR_MS / state.windowMs)) : MAX_HISTORY_WINDOWS);

  async function loadHistory(category) {
    const url = `v1/categories/${encodeURIComponent(category)}/sentiment?lastWindows=${historyWindows()}`;
    const points = arr((await fetchJson(url)).windows).map(normWindow);
    // Without the hello event the window length is read off the data.
    if (!state.windowMs && points.length > 1) state.windowMs = points[1].startMs - points[0].startMs;
    state.loaded.add(category);
    for (const p of points) upsertPoint(category, p, true);
  }

  // A category's hour of history, fetched the first time it is plotted or picked for the star mix.
  async function ensureHistory(category) {
    if (!category || state.loaded.has(category)) return;
    try { await loadHistory(category); } catch (err) { setStatusError(err.message); }
    trimSeries();
    publish();
  }

  async function loadCounts() {
    state.counts = normCounts(await fetchJson(`v1/counts?lastWindows=${VOLUME_WINDOWS}`));
    for (const c of Object.keys(state.counts.perCategory)) addCategory(c, false);
    renderVolume();
  }

  async function loadGrades() {
    const body = await fetchJson(`v1/anomaly/grades?lastWindows=${MAX_HISTORY_WINDOWS}`);
    state.grades = arr(body.windows).map((g) => ({ startMs: num(g.startMs), maxGrade: num(g.maxGrade) }));
    renderGrades();
  }

  async function loadAnomaly() {
    const body = await fetchJson("v1/anomaly?recentAlerts=20");
    state.anomaly = { grade: num(body.grade), score: num(body.score), pointsSeen: num(body.pointsSeen) };
    state.detections = arr(body.recentAlerts).map(normDetection).sort((a, b) => b.timeMs - a.timeMs);
    renderAnomalyTiles();
    renderAttribution();
  }

  async function loadAlerts() {
    state.alerts = arr((await fetchJson(`v1/alerts?limit=${ALERTS_LIMIT}`)).recent).map(normAlert);
    renderAlerts();
  }

  async function loadPriority() {
    const category = $("#priority-category").value;
    const query = category ? `&category=${encodeURIComponent(category)}` : "";
    const body = await fetchJson(`v1/priority?limit=${LIST_LIMIT}${query}`);
    state.priority = arr(body.reviews).map(normPriority).filter((r) => !state.acknowledged.has(r.reviewId));
    renderPriority();
  }

  async function loadDeadLetters() {
    const body = await fetchJson(`v1/dead-letters?limit=${LIST_LIMIT}`);
    state.deadLettersTotal = num(body.total);
    state.deadLetters = arr(body.deadLetters).map(normDeadLetter);
    renderDeadLetters();
  }

  // Loads independently, so that one failing endpoint leaves the others' data on screen; returns the failures.
  async function settle(loaders) {
    const results = await Promise.allSettled(loaders.map((f) => f()));
    publish();
    markUpdated();
    return results.filter((r) => r.status === "rejected").map((r) => String(r.reason && r.reason.message));
  }

  function reportFailures(failed) {
    setStatusError(failed.length ? `Some data failed to load: ${[...new Set(failed)].join("; ")}` : "");
  }

  const afterWindowLoaders = [loadCounts, loadGrades, loadAnomaly, loadAlerts, loadPriority, loadDeadLetters];
  const refreshAfterWindow = coalesced(() => settle(afterWindowLoaders).then(reportFailures), 1000);
  // Detections can come in bursts; the first notice refetches at once, the rest at most once a second.
  const refreshAlerts = coalesced(() => settle([loadAlerts]).then(reportFailures), 1000);

  // ---------- series state ----------

  // Adds or replaces a category's window by start; a late review's update replaces the window it changed.
  function upsertPoint(category, w, fromHistory) {
    let points = state.series.get(category);
    if (!points) state.series.set(category, (points = []));
    const point = { startMs: w.startMs, count: w.count, average: w.average, negativeShare: w.negativeShare,
      starCounts: w.starCounts };
    let i = points.length;
    while (i > 0 && points[i - 1].startMs > point.startMs) i--;
    if (i > 0 && points[i - 1].startMs === point.startMs) {
      // History fetched after an event is older than the event's copy of the window.
      if (!fromHistory) points[i - 1] = point;
    } else {
      points.splice(i, 0, point);
    }
  }

  // Keeps one hour of windows, counted back from the newest window of any category.
  function trimSeries() {
    let newest = 0;
    for (const points of state.series.values()) {
      if (points.length) newest = Math.max(newest, points[points.length - 1].startMs);
    }
    const cutoff = newest - HOUR_MS + (state.windowMs || 0);
    for (const points of state.series.values()) {
      const keep = points.findIndex((p) => p.startMs >= cutoff);
      if (keep < 0) points.length = 0;
      else if (keep > 0) points.splice(0, keep);
    }
  }

  function latestPoint(category) {
    const points = state.series.get(category) || [];
    return points[points.length - 1] || null;
  }

  function summarize(category) {
    const points = state.series.get(category) || [];
    const latest = points[points.length - 1];
    if (!latest) return null;
    let weighted = 0, total = 0;
    for (const p of points) { weighted += p.average * p.count; total += p.count; }
    const hourAvg = total > 0 ? weighted / total : NaN;
    return { current: latest.average, hourAvg, delta: latest.average - hourAvg,
      negativeShare: latest.negativeShare, count: latest.count };
  }

  // Mirror for browser tests: plain objects and arrays, numbers as numbers.
  function publish() {
    const series = {};
    // The arrays themselves, not copies: this runs on every event; a point object is replaced, never changed.
    for (const [category, points] of state.series) series[category] = points;
    window.dashboard = {
      ready: state.ready, windowMs: state.windowMs, series, shown: [...state.shown], counts: state.counts,
      grades: state.grades.map((g) => ({ ...g })), alerts: state.alerts.slice(), priority: state.priority.slice(),
      deadLetters: state.deadLetters.slice(), lastEventMs: state.lastEventMs,
    };
  }

  function markUpdated() {
    $("#last-update").textContent = `updated ${fmtTime(Date.now())}`;
  }

  // ---------- categories: picker and selects ----------

  const sortedCategories = () => [...state.categories].sort((a, b) =>
    (a === ALL ? -1 : b === ALL ? 1 : a.localeCompare(b)));

  function addCategory(category, autoShow) {
    if (!category || state.categories.has(category)) return false;
    state.categories.add(category);
    colorOf(category);
    if (autoShow && state.shown.length < AUTO_SHOW_BELOW) state.shown.push(category);
    renderCategoryControls();
    return true;
  }

  function renderCategoryControls() {
    const picker = $("#category-picker");
    picker.replaceChildren(...sortedCategories().map((c) => {
      const box = el("input", { type: "checkbox", "data-category": c, checked: state.shown.includes(c) });
      return el("label", { class: "pick", "data-category": c }, box,
        swatch(c), el("span", { text: c }));
    }));
    applyCategoryFilter();
    fillSelect($("#starmix-category"), sortedCategories(), null);
    fillSelect($("#priority-category"), sortedCategories().filter((c) => c !== ALL), "All categories");
  }

  // Rebuilds a select's options keeping its current choice.
  function fillSelect(select, values, emptyLabel) {
    const current = select.value;
    const options = values.map((v) => el("option", { value: v, text: v }));
    if (emptyLabel !== null) options.unshift(el("option", { value: "", text: emptyLabel }));
    select.replaceChildren(...options);
    select.value = current;
    if (select.value !== current) select.value = emptyLabel !== null ? "" : ALL;
  }

  function applyCategoryFilter() {
    const q = $("#category-filter").value.trim().toLowerCase();
    for (const label of $("#category-picker").children) {
      label.hidden = q !== "" && !label.dataset.category.toLowerCase().includes(q);
    }
  }

  function onPickerChange(e) {
    const box = e.target.closest("input[data-category]");
    if (!box) return;
    const c = box.dataset.category;
    state.shown = box.checked ? sortedCategories().filter((x) => x === c || state.shown.includes(x))
      : state.shown.filter((x) => x !== c);
    publish();
    rebuildSentimentCharts();
    renderSentiment();
    if (box.checked) ensureHistory(c).then(renderSentiment);
  }

  // Highlights a category's lines (uPlot focus) while the pointer is on its picker entry or table row.
  function focusCategory(category) {
    const i = category ? state.shown.indexOf(category) + 1 : 0;
    // The sentiment chart's setSeries hook marks the table row.
    for (const chart of [charts.sentiment, charts.negative]) {
      if (chart) chart.setSeries(i > 0 ? i : null, { focus: i > 0 });
    }
  }

  function onHoverCategory(e) {
    const target = e.target.closest("[data-category]");
    focusCategory(target ? target.dataset.category : null);
  }

  // ---------- charts ----------

  function chartWidth(container) {
    return Math.max(280, container.clientWidth || container.parentElement.clientWidth || 600);
  }

  function makeChart(key, selector, opts, data) {
    if (charts[key]) charts[key].destroy();
    const container = $(selector);
    container.replaceChildren();
    charts[key] = new uPlot({ width: chartWidth(container), height: 260, ...opts }, data, container);
    return charts[key];
  }

  function resizeCharts() {
    for (const chart of Object.values(charts)) {
      const container = chart.root.parentElement;
      if (!container || container.offsetParent === null) continue; // hidden page: sized when shown
      const width = chartWidth(container);
      if (Math.abs(width - chart.width) > 1) chart.setSize({ width, height: chart.height });
    }
  }

  // x values are Unix milliseconds (ms: 1); axis and legend show local HH:MM:SS.
  const timeAxis = { space: 90, values: (u, vals) => vals.map(fmtTime) };
  const timeX = { label: "window", value: (u, v) => (v == null ? "–" : fmtTime(v)) };
  const timeOpts = { ms: 1, focus: { alpha: 0.25 }, cursor: { focus: { prox: 24 } } };
  const valueFmt = (digits, suffix = "") => (u, v) => (v == null ? "–" : `${v.toFixed(digits)}${suffix}`);
  const intFmt = (u, v) => (v == null ? "–" : fmtInt(v));

  function lineSeries(category, digits, suffix) {
    return { label: category, stroke: colorOf(category), width: category === ALL ? 2.5 : 1.5, spanGaps: true,
      points: { size: 4 }, value: valueFmt(digits, suffix) };
  }

  // Aligns the shown categories' points on one x axis (uPlot's data layout); missing windows are null.
  function alignedSeries(pick) {
    const xs = new Set();
    for (const c of state.shown) for (const p of state.series.get(c) || []) xs.add(p.startMs);
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((v, i) => [v, i]));
    const ys = state.shown.map((c) => {
      const y = new Array(x.length).fill(null);
      for (const p of state.series.get(c) || []) y[index.get(p.startMs)] = pick(p);
      return y;
    });
    return [x, ...ys];
  }

  // 1..5 stars, narrowed to the data with some room; the whole scale while there is no data.
  function starsRange(u, min, max) {
    if (min == null || max == null) return [1, 5];
    const lo = Math.max(1, Math.floor((min - 0.1) * 2) / 2), hi = Math.min(5, Math.ceil((max + 0.1) * 2) / 2);
    return hi > lo ? [lo, hi] : [1, 5];
  }

  function rebuildSentimentCharts() {
    const starsAxis = { values: (u, vals) => vals.map((v) => v.toFixed(1)) };
    makeChart("sentiment", "#sentiment-chart", { ...timeOpts,
      scales: { x: { time: true }, y: { range: starsRange } },
      axes: [timeAxis, { ...starsAxis, label: "stars" }],
      series: [timeX, ...state.shown.map((c) => lineSeries(c, 2))],
      hooks: { setSeries: [(u, i) => highlightRow(i == null ? null : state.shown[i - 1])] },
    }, alignedSeries((p) => p.average));
    makeChart("negative", "#negative-chart", { ...timeOpts,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, Math.ceil((max || 0) / 10) * 10)] } },
      axes: [timeAxis, { values: (u, vals) => vals.map((v) => `${v}%`) }],
      series: [timeX, ...state.shown.map((c) => lineSeries(c, 1, "%"))],
    }, alignedSeries((p) => p.negativeShare * 100));
  }

  function highlightRow(category) {
    for (const row of document.querySelectorAll("#sentiment-table tbody tr")) {
      row.classList.toggle("focused", row.dataset.category === category);
    }
  }

  function createStarMixChart() {
    makeChart("starmix", "#starmix-chart", {
      height: 220,
      scales: { x: { time: false, range: [0.5, 5.5] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{ splits: () => [1, 2, 3, 4, 5], values: (u, vals) => vals.map((v) => `${v}★`) }, {}],
      series: [{ label: "stars", value: (u, v) => (v == null ? "–" : `${v}★`) },
        { label: "reviews", paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false },
          stroke: () => colorOf(starMixCategory()), fill: () => `${colorOf(starMixCategory())}99`,
          value: intFmt }],
    }, [[1, 2, 3, 4, 5], [0, 0, 0, 0, 0]]);
  }

  function createVolumeChart() {
    makeChart("volume", "#volume-chart", { ...timeOpts,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, (max || 0) * 1.1)] } },
      axes: [timeAxis, {}],
      series: [timeX,
        { label: "reviews (exact)", stroke: "#2563eb", width: 2, fill: "rgba(37,99,235,0.08)", spanGaps: true,
          value: intFmt },
        { label: "distinct (approx.)", stroke: "#d97706", width: 2, dash: [6, 4], spanGaps: true, value: intFmt }],
    }, [[], [], []]);
  }

  // Alert markers are a points-only series: no drawing code of our own, uPlot places them.
  function createGradeChart() {
    makeChart("grades", "#grade-chart", { ...timeOpts,
      scales: { x: { time: true }, y: { range: [0, 1.05] } },
      axes: [timeAxis, {}],
      series: [timeX,
        { label: "max grade", stroke: "#7c3aed", width: 1.5, fill: "rgba(124,58,237,0.10)", spanGaps: true,
          value: valueFmt(3) },
        { label: "alert fired", stroke: "#dc2626", fill: "#dc2626", paths: () => null,
          points: { show: true, size: 10, width: 2, fill: "#fecaca" }, value: valueFmt(3) }],
    }, [[], [], []]);
  }

  // ---------- rendering ----------

  function renderSentiment() {
    if (!charts.sentiment) rebuildSentimentCharts();
    charts.sentiment.setData(alignedSeries((p) => p.average));
    charts.negative.setData(alignedSeries((p) => p.negativeShare * 100));
    renderSentimentTable();
    renderStarMix();
    renderVolume();
  }

  function renderSentimentTable() {
    const cell = (cls, text) => el("td", { class: `num ${cls}`, text });
    $("#sentiment-table tbody").replaceChildren(...state.shown.map((c) => {
      const s = summarize(c);
      const delta = s ? s.delta : NaN;
      return el("tr", { "data-category": c },
        el("td", {}, swatch(c), c),
        cell("current-avg", s ? fmtFixed(s.current, 2) : "–"),
        cell("hour-avg", s ? fmtFixed(s.hourAvg, 2) : "–"),
        el("td", { class: `num delta ${delta > 0.005 ? "up" : delta < -0.005 ? "down" : ""}`,
          text: Number.isFinite(delta) ? `${delta >= 0 ? "+" : ""}${delta.toFixed(2)}` : "–" }),
        cell("negative-share", s ? fmtPct(s.negativeShare) : "–"),
        cell("window-count", s ? fmtInt(s.count) : "–"));
    }));
  }

  const starMixCategory = () => $("#starmix-category").value || ALL;

  function renderStarMix() {
    const latest = latestPoint(starMixCategory());
    charts.starmix.setData([[1, 2, 3, 4, 5], latest ? latest.starCounts.slice() : [0, 0, 0, 0, 0]]);
  }

  function renderVolume() {
    const c = state.counts;
    if (c) {
      $("#total-reviews").textContent = fmtInt(c.totalReviews);
      $("#distinct-reviews").textContent = fmtInt(c.allTimeDistinctReviews);
      $("#rejected-reviews").textContent = fmtInt(c.rejectedReviews);
      $("#duplicate-reviews").textContent = fmtInt(c.duplicateReviews);
    }
    const exact = new Map((state.series.get(ALL) || []).map((p) => [p.startMs, p.count]));
    const distinct = new Map((c ? c.windows : []).map((w) => [w.startMs, w.distinctReviews]));
    const x = [...new Set([...exact.keys(), ...distinct.keys()])].sort((a, b) => a - b).slice(-VOLUME_WINDOWS);
    charts.volume.setData([x, x.map((t) => exact.get(t) ?? null), x.map((t) => distinct.get(t) ?? null)]);
  }

  function renderGrades() {
    const fired = state.alerts.filter((a) => a.kind === "anomaly_grade" && a.firedMs > 0);
    const grade = new Map(state.grades.map((g) => [g.startMs, g.maxGrade]));
    const marks = new Map(fired.map((a) => [a.firedMs, Math.min(1, Math.max(0, a.value))]));
    const first = state.grades.length ? state.grades[0].startMs : 0;
    // Markers older than the plotted grades would stretch the axis; they are left out.
    const x = [...new Set([...grade.keys(), ...[...marks.keys()].filter((t) => t >= first)])].sort((a, b) => a - b);
    charts.grades.setData([x, x.map((t) => grade.get(t) ?? null), x.map((t) => marks.get(t) ?? null)]);
  }

  function renderAnomalyTiles() {
    const a = state.anomaly;
    if (!a) return;
    $("#anomaly-grade").textContent = fmtFixed(a.grade, 3);
    $("#anomaly-score").textContent = fmtFixed(a.score, 3);
    $("#anomaly-points").textContent = fmtInt(a.pointsSeen);
  }

  // The newest alert carrying an attribution, else the newest detection.
  function renderAttribution() {
    const alert = state.alerts.find((a) => a.attribution.length > 0);
    const detection = state.detections[0];
    let source = "No detection yet.", rows = [];
    if (alert) {
      source = `Alert ${alert.rule} (${alert.state}), fired ${fmtTime(alert.firedMs)}, ` +
        `grade ${fmtFixed(alert.value, 3)}`;
      rows = alert.attribution;
    } else if (detection) {
      source = `Detection at ${fmtTime(detection.timeMs)}: review ${detection.reviewId}` +
        `${detection.category ? ` (${detection.category})` : ""}, grade ${fmtFixed(detection.grade, 3)}`;
      rows = detection.attribution;
    }
    $("#attribution-source").textContent = source;
    $("#latest-attribution tbody").replaceChildren(...rows.slice().sort((a, b) => b.attribution - a.attribution)
      .map((f) => el("tr", { "data-feature": f.feature }, el("td", { text: f.feature }),
        el("td", { class: "num", text: fmtFixed(f.attribution, 4) }), el("td", { text: f.direction || "–" }))));
  }

  // Per target: "hooks: delivered 1/2, pending 1"; the last error goes in the tooltip.
  function deliverySummary(deliveries) {
    if (!deliveries.length) return { text: "–", title: "" };
    const byTarget = new Map();
    for (const d of deliveries) {
      if (!byTarget.has(d.target)) byTarget.set(d.target, []);
      byTarget.get(d.target).push(d);
    }
    const parts = [...byTarget].map(([target, list]) => {
      const n = (s) => list.filter((d) => d.state === s).length;
      const extra = [["pending", n("pending")], ["dead-lettered", n("dead_lettered")]].filter(([, k]) => k > 0)
        .map(([label, k]) => `, ${label} ${k}`).join("");
      return `${target || "?"}: delivered ${n("delivered")}/${list.length}${extra}`;
    });
    const errors = deliveries.filter((d) => d.lastError).map((d) => `${d.target} (${d.event}): ${d.lastError}`);
    return { text: parts.join("; "), title: errors.join("\n") };
  }

  function renderAlerts() {
    $("#alerts-list tbody").replaceChildren(...state.alerts.map((a) => {
      const deliveries = deliverySummary(a.deliveries);
      const cls = a.state === "firing" ? "firing" : "resolved";
      return el("tr", { "data-alert-id": a.id, "data-state": a.state, class: cls },
        el("td", { text: a.rule }), el("td", { text: a.kind }), el("td", { text: a.category || "–" }),
        el("td", { text: a.summary }), el("td", { text: fmtTime(a.firedMs) }),
        el("td", { text: a.resolvedMs ? fmtTime(a.resolvedMs) : "firing" }),
        el("td", { text: deliveries.text, title: deliveries.title || null }));
    }));
    renderGrades();
    renderAttribution();
  }

  function priorityMatches(r, query, category) {
    if (category && r.category !== category) return false;
    if (!query) return true;
    return [r.reviewId, r.category, r.customerId, r.reviewHeadline, r.reviewBody]
      .some((s) => s.toLowerCase().includes(query));
  }

  function renderPriority() {
    const query = $("#priority-search").value.trim().toLowerCase();
    const category = $("#priority-category").value;
    const rows = state.priority.filter((r) => priorityMatches(r, query, category)).map((r) =>
      el("tr", { "data-review-id": r.reviewId, "data-category": r.category },
        el("td", { text: r.category }), el("td", { class: "num", text: String(r.predictedStars) }),
        el("td", { class: "num", text: fmtFixed(r.expectedStars, 2) }), el("td", { text: r.reviewHeadline }),
        el("td", { class: "body", text: truncate(r.reviewBody, 160), title: r.reviewBody }),
        el("td", { text: r.customerId }), el("td", { text: fmtTime(r.receivedMs) }),
        el("td", {}, el("button", { type: "button", class: "ack", text: "Acknowledge" }))));
    $("#priority-list tbody").replaceChildren(...rows);
  }

  async function acknowledge(button) {
    const row = button.closest("tr");
    const { reviewId, category } = row.dataset;
    const error = $("#priority-error");
    button.disabled = true;
    try {
      await fetchJson("v1/priority/acknowledge", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ reviewId, category }),
      });
      state.acknowledged.add(reviewId);
      state.priority = state.priority.filter((r) => r.reviewId !== reviewId);
      row.remove();
      error.hidden = true;
      publish();
    } catch (err) {
      error.textContent = `Could not acknowledge ${reviewId}: ${err.message}`;
      error.hidden = false;
      button.disabled = false;
    }
  }

  function renderDeadLetters() {
    $("#deadletters-total").textContent = fmtInt(state.deadLettersTotal);
    $("#deadletters-list tbody").replaceChildren(...state.deadLetters.map((d) =>
      el("tr", {}, el("td", { text: fmtTime(d.timeMs) }), el("td", { text: d.stage }), el("td", { text: d.field }),
        el("td", { text: d.rule }), el("td", { text: d.message }), el("td", { text: d.reviewId }),
        el("td", { class: "raw" }, el("code", { text: truncate(d.raw, 120), title: d.raw })))));
  }

  // ---------- live events ----------

  function setLive(mode) {
    const dot = $("#live-indicator");
    dot.className = `live-dot ${mode}`;
    dot.textContent = mode;
  }

  let resolveHello = () => {};
  let helloSeen = false;

  // Opens the event stream; resolves with the hello event's windowMs, or 0 if it does not come in time.
  function connectEvents() {
    return new Promise((resolve) => {
      resolveHello = resolve;
      setTimeout(() => resolve(0), HELLO_WAIT_MS);
      openEvents();
    });
  }

  function openEvents() {
    let source;
    try {
      source = new EventSource("events");
    } catch {
      setLive("offline");
      resolveHello(0);
      return;
    }
    source.addEventListener("open", () => setLive("live"));
    source.addEventListener("error", () => {
      setLive("reconnecting");
      // EventSource retries network errors itself but gives up on an HTTP error (a restarting gateway's 503).
      if (source.readyState === EventSource.CLOSED) setTimeout(openEvents, RECONNECT_MS);
    });
    source.addEventListener("hello", onHello);
    source.addEventListener("window", onWindowEvent);
    source.addEventListener("alert", onAlertEvent);
  }

  // Sent on every (re)connection. After a reconnection the windows closed meanwhile were missed: the history
  // of the categories held is fetched again and merged.
  function onHello(e) {
    setLive("live");
    const hello = safeParse(e.data);
    if (hello && num(hello.windowMs) > 0) state.windowMs = num(hello.windowMs);
    resolveHello(state.windowMs);
    if (helloSeen && state.ready) resync();
    helloSeen = true;
  }

  async function resync() {
    const categories = [...state.loaded];
    state.loaded.clear();
    reportFailures(await settle(categories.map((c) => () => loadHistory(c))));
    trimSeries();
    publish();
    renderSentiment();
    refreshAfterWindow();
    refreshAlerts();
  }

  function safeParse(text) {
    try { return JSON.parse(text); } catch { return null; }
  }

  let renderQueued = false;
  // A window closing sends one event per category at once; they are drawn together a moment later.
  function queueRender() {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(() => { renderQueued = false; renderSentiment(); markUpdated(); }, 50);
  }

  function onWindowEvent(e) {
    const data = safeParse(e.data);
    if (!data) return;
    const w = normWindow(data);
    state.lastEventMs = Date.now();
    upsertPoint(w.category, w, false);
    const isNew = addCategory(w.category, state.ready);
    if (isNew && state.shown.includes(w.category)) rebuildSentimentCharts();
    trimSeries();
    publish();
    if (state.ready) queueRender();
    if (w.category === ALL && state.ready) refreshAfterWindow();
  }

  function onAlertEvent(e) {
    const notice = safeParse(e.data);
    if (!notice) return;
    state.lastEventMs = Date.now();
    if (notice.alert) {
      // Shown at once; the refetch brings the deliveries and the list's order.
      const alert = normAlert(notice.alert);
      state.alerts = [alert, ...state.alerts.filter((a) => a.id !== alert.id)];
      renderAlerts();
    } else if (notice.detection) {
      state.detections = [normDetection(notice.detection), ...state.detections].slice(0, 50);
      renderAttribution();
    }
    publish();
    if (state.ready) refreshAlerts();
  }

  // ---------- navigation ----------

  function showPage(page) {
    for (const b of document.querySelectorAll("#nav button")) b.classList.toggle("active", b.dataset.page === page);
    for (const s of document.querySelectorAll("section.page")) s.hidden = s.id !== `page-${page}`;
    try { history.replaceState(null, "", `#${page}`); } catch { /* file: URLs in some browsers */ }
    resizeCharts();
  }

  function wireControls() {
    $("#nav").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-page]");
      if (b) showPage(b.dataset.page);
    });
    const picker = $("#category-picker");
    picker.addEventListener("change", onPickerChange);
    picker.addEventListener("mouseover", onHoverCategory);
    picker.addEventListener("mouseleave", () => focusCategory(null));
    const table = $("#sentiment-table");
    table.addEventListener("mouseover", onHoverCategory);
    table.addEventListener("mouseleave", () => focusCategory(null));
    $("#category-filter").addEventListener("input", applyCategoryFilter);
    $("#starmix-category").addEventListener("change", (e) => {
      renderStarMix();
      ensureHistory(e.target.value).then(renderStarMix);
    });
    $("#priority-search").addEventListener("input", renderPriority);
    $("#priority-category").addEventListener("change", () => {
      renderPriority();
      loadPriority().then(publish).catch((err) => setStatusError(err.message));
    });
    $("#priority-list").addEventListener("click", (e) => {
      const b = e.target.closest("button.ack");
      if (b) acknowledge(b);
    });
    if (typeof ResizeObserver === "function") new ResizeObserver(() => resizeCharts()).observe($("main"));
    else window.addEventListener("resize", resizeCharts);
  }

  // ---------- start ----------

  function chooseShown() {
    const per = state.counts ? state.counts.perCategory : {};
    const busiest = [...state.categories].filter((c) => c !== ALL)
      .sort((a, b) => (per[b] || 0) - (per[a] || 0) || a.localeCompare(b)).slice(0, MAX_SHOWN_AT_START);
    state.shown = sortedCategories().filter((c) => c === ALL || busiest.includes(c));
  }

  async function start() {
    publish();
    wireControls();
    const initial = (location.hash || "").slice(1);
    showPage(document.querySelector(`#nav button[data-page="${initial}"]`) ? initial : "sentiment");
    createStarMixChart();
    createVolumeChart();
    createGradeChart();
    rebuildSentimentCharts();
    addCategory(ALL, false);

    // The hello event tells the window length, and so how many windows make the hour of history to fetch.
    await connectEvents();
    const failed = await settle([
      async () => arr((await fetchJson("v1/categories")).categories).forEach((c) => addCategory(str(c), false)),
      loadCounts,
    ]);
    chooseShown();
    // "All" first: without the hello event its windows tell the window length used for the others' requests.
    failed.push(...await settle([() => loadHistory(ALL)]));
    failed.push(...await settle([...state.shown.filter((c) => c !== ALL).map((c) => () => loadHistory(c)),
      loadGrades, loadAnomaly, loadAlerts, loadPriority, loadDeadLetters]));
    reportFailures(failed);
    trimSeries();
    renderCategoryControls();
    rebuildSentimentCharts();
    renderSentiment();
    state.ready = true;
    publish();
  }

  // Scripts are deferred, so the document is parsed by now.
  if (typeof uPlot === "undefined") {
    setStatusError("uPlot did not load (assets/uPlot.iife.min.js).");
    state.ready = true;
    publish();
    return;
  }
  start().catch((err) => {
    setStatusError(`Dashboard failed to start: ${err.message}`);
    state.ready = true;
    publish();
  });
})();
