// probmodel planner: the page is a client of the JSON API (docs/planner.md).
// The view is the scenario, its --set items (in the CLI's syntax), the events, the seed
// and the draws; it lives in the URL, so a link reproduces it.
"use strict";

const state = {scenario: null, sets: new Map(), events: [], seed: 0, draws: 65536};
const timings = [];  // one entry per answer: server and round-trip milliseconds
window.plannerTimings = timings;
let answers = 0;     // answers drawn so far (tests wait on data-answers)
let controlsInfo = null;
let seq = 0;         // the newest request wins

const $ = (id) => document.getElementById(id);

function fmtNum(x, digits = 3) {
  if (x === null || x === undefined || !isFinite(x)) return String(x);
  if (x === 0) return "0";
  const mag = Math.floor(Math.log10(Math.abs(x)));
  const dec = Math.max(0, Math.min(10, digits - 1 - mag));
  return x.toLocaleString("en-US", {minimumFractionDigits: dec, maximumFractionDigits: dec});
}

function setsList(sets = state.sets) { return Array.from(sets.values()); }

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const res = await fetch(path, opts);
  let data;
  try { data = await res.json(); } catch (e) { data = {error: `bad answer from ${path}`}; }
  return {ok: res.ok, status: res.status, data};
}

function view(extra = {}) {
  return Object.assign({scenario: state.scenario, sets: setsList(), events: state.events,
                        seed: state.seed, draws: state.draws}, extra);
}

// ------------------------------------------------------------------ URL state
function readUrl() {
  const q = new URLSearchParams(location.search);
  if (q.get("scenario")) state.scenario = q.get("scenario");
  state.sets = new Map();
  for (const item of q.getAll("set")) state.sets.set(keyOf(item), item);
  state.events = q.getAll("event");
  const seed = parseInt(q.get("seed") || "0", 10);
  state.seed = Number.isFinite(seed) && seed >= 0 ? seed : 0;
  const draws = parseInt(q.get("draws") || "0", 10);
  state.draws = Number.isFinite(draws) && draws > 0 ? draws : 65536;
  drawsGiven = Number.isFinite(draws) && draws > 0;
}

// Serving scenarios run the serving physics at an operating point for every draw (about
// 40 times the work of a draw of the economics): they start at 16,384 draws.
let drawsGiven = false;
function defaultDraws(serving) { return serving ? 16384 : 65536; }

function writeUrl() {
  const q = new URLSearchParams();
  q.set("scenario", state.scenario);
  for (const item of setsList()) q.append("set", item);
  for (const e of state.events) q.append("event", e);
  q.set("seed", String(state.seed));
  if (state.draws !== 65536) q.set("draws", String(state.draws));
  history.replaceState(null, "", `${location.pathname}?${q.toString()}`);
}

// The key an item replaces: "pay_rate.p95=0.7" -> "pay_rate.p95", "users=3e7" -> "users".
function keyOf(item) { return item.split("=")[0].trim(); }

// ------------------------------------------------------------------ errors
function clearErrors() {
  for (const el of document.querySelectorAll(".error")) { el.textContent = ""; }
  for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  $("global-error").hidden = true;
}

function showError(data, fallbackParam) {
  const param = data.param || fallbackParam;
  const el = param ? $(`error-${param}`) : null;
  if (el) {
    el.textContent = data.error;
    const input = document.querySelector(`[aria-label="${param}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
  } else {
    $("global-error").textContent = data.error;
    $("global-error").hidden = false;
  }
}

// ------------------------------------------------------------------ controls
function sparkline(density) {
  const w = 70, h = 22;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h);
  svg.setAttribute("aria-hidden", "true"); svg.classList.add("spark");
  const n = density.y.length;
  const pts = density.y.map((y, i) => `${(i / (n - 1)) * w},${h - 1 - y * (h - 3)}`);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  path.setAttribute("points", pts.join(" "));
  svg.appendChild(path);
  return svg;
}

function field(label, value, onChange, cls = "") {
  const input = document.createElement("input");
  input.type = "text"; input.value = value; input.className = cls;
  input.setAttribute("aria-label", label);
  input.addEventListener("change", () => onChange(input.value.trim(), input));
  return input;
}

function controlRow(c) {
  const row = document.createElement("div");
  row.className = "control" + (c.overridden ? " changed" : "");
  row.dataset.name = c.name;
  const name = document.createElement("span");
  name.className = "name"; name.textContent = c.name;
  name.title = `${c.source}${c.description ? "\n" + c.description : ""}`;
  row.appendChild(name);
  const unit = document.createElement("span");
  unit.className = "unit"; unit.textContent = c.unit === "1" ? "" : c.unit;
  if (c.kind === "value") {
    row.appendChild(field(c.name, c.value_text,
                          (v) => change(c.name, v === "" ? null : `${c.name}=${v}`), "value"));
    row.appendChild(unit);
  } else {
    row.appendChild(field(c.name, c.law, (v) => change(c.name, v === "" ? null : `${c.name}=${v}`,
                                                       true), "law"));
    for (const q of ["p05", "p95"]) {
      const f = field(`${c.name}.${q}`, c[`${q}_text`],
                      (v) => change(`${c.name}.${q}`, v === "" ? null : `${c.name}.${q}=${v}`),
                      "handle");
      f.title = `${q === "p05" ? "5%" : "95%"} quantile (${c.unit})`;
      row.appendChild(f);
    }
    const mid = document.createElement("span");
    mid.className = "p50"; mid.textContent = `median ${fmtNum(c.p50, 3)}`;
    row.appendChild(mid);
    row.appendChild(sparkline(c.density));
    row.appendChild(unit);
  }
  if (c.correlated) {
    const k = document.createElement("span");
    k.className = "tag"; k.textContent = "correlated"; row.appendChild(k);
  }
  const err = document.createElement("span");
  err.className = "error"; err.id = `error-${c.name}`; err.setAttribute("role", "alert");
  row.appendChild(err);
  return row;
}

function renderControls(info) {
  controlsInfo = info;
  const box = $("controls"); box.replaceChildren();
  const laws = info.controls.filter((c) => c.kind === "law");
  const fixed = info.controls.filter((c) => c.kind === "value");
  for (const [title, list] of [["Uncertain inputs", laws], ["Fixed inputs", fixed]]) {
    if (!list.length) continue;
    const h = document.createElement("h3"); h.textContent = title; box.appendChild(h);
    for (const c of list) box.appendChild(controlRow(c));
  }
  const picks = $("pickers"); picks.replaceChildren();
  for (const p of info.pickers) {
    const lab = document.createElement("label"); lab.className = "picker";
    lab.append(`${p.name} `);
    const sel = document.createElement("select"); sel.setAttribute("aria-label", p.name);
    for (const o of p.options) {
      const opt = document.createElement("option"); opt.value = o; opt.textContent = o;
      if (o === p.value) opt.selected = true; sel.appendChild(opt);
    }
    sel.addEventListener("change", () => change(p.name, `${p.name}=${sel.value}`));
    lab.appendChild(sel);
    const err = document.createElement("span");
    err.className = "error"; err.id = `error-${p.name}`; lab.appendChild(err);
    picks.appendChild(lab);
  }
  $("frontier-box").hidden = !info.serving;
  $("frontier-box").open = info.serving;
  for (const w of info.warnings || []) $("status").textContent = `warning: ${w}`;
}

async function loadControls(sets = state.sets) {
  const r = await api("/api/controls", {scenario: state.scenario, sets: setsList(sets)});
  if (r.ok) renderControls(r.data);
  return r;
}

// A control changed: try the new view; keep it only when the engine accepts it.
async function change(key, item, isLaw = false) {
  const next = new Map(state.sets);
  if (isLaw) for (const k of Array.from(next.keys())) if (k.startsWith(`${key}.`)) next.delete(k);
  if (item === null) next.delete(key); else { next.delete(key); next.set(key, item); }
  const ok = await redraw(next, key.split(".")[0], false);
  if (ok) { state.sets = next; writeUrl(); await loadControls(); }
  if (ok) bump();
}

function bump() { answers += 1; document.body.dataset.answers = String(answers); }

// ------------------------------------------------------------------ answers
async function redraw(sets = state.sets, param = null, count = true) {
  const my = ++seq;
  clearErrors();
  document.body.dataset.busy = "1";
  $("status").textContent = "drawing…";
  const t0 = performance.now();
  const r = await api("/api/run", view({sets: setsList(sets)}));
  const t1 = performance.now();
  if (my !== seq) return false;  // a newer change is on its way
  document.body.dataset.busy = "0";
  if (!r.ok) {
    showError(r.data, param);
    $("status").textContent = "not changed: see the message";
    document.body.dataset.errors = String(Number(document.body.dataset.errors || 0) + 1);
    return false;
  }
  render(r.data);
  const t2 = performance.now();
  timings.push({server_ms: r.data.timing.server_ms, fetch_ms: t1 - t0, render_ms: t2 - t1,
                total_ms: t2 - t0, compilations: r.data.timing.compilations});
  $("timing").textContent = `${r.data.draws.toLocaleString("en-US")} draws, seed ${r.data.seed}: ` +
    `server ${r.data.timing.server_ms.toFixed(0)} ms, round trip ${(t1 - t0).toFixed(0)} ms, ` +
    `drawn in ${(t2 - t1).toFixed(0)} ms; compilations this answer ${r.data.timing.compilations} ` +
    `(${r.data.timing.compilations_total} since start)`;
  $("status").textContent = "";
  if (count) bump();
  return true;
}

function render(d) {
  const p = $("p-profit");
  p.dataset.value = String(d.p_profitable);
  p.dataset.mcse = String(d.p_profitable_mcse);
  p.textContent = d.p_profitable === null ? "n/a" : d.p_profitable.toFixed(3);
  $("p-profit-mcse").textContent = d.p_profitable_mcse === null ? "" :
    `± ${d.p_profitable_mcse.toFixed(3)} (MCSE), ${d.draws.toLocaleString("en-US")} draws`;
  renderEvents(d.events || []);
  renderStats(d);
  renderCharts(d.charts || {});
}

function renderEvents(list) {
  const ul = $("events"); ul.replaceChildren();
  state.events.forEach((text, i) => {
    const e = list[i];
    const li = document.createElement("li");
    li.dataset.testid = "event";
    li.textContent = e ? `P(${e.event}) = ${e.p.toFixed(3)} ± ${e.mcse.toFixed(3)}` : text;
    if (e) { li.dataset.value = String(e.p); li.dataset.mcse = String(e.mcse); }
    const x = document.createElement("button");
    x.type = "button"; x.textContent = "remove"; x.setAttribute("aria-label", `remove ${text}`);
    x.addEventListener("click", async () => {
      const old = state.events; state.events = old.filter((_, j) => j !== i);
      if (await redraw()) writeUrl(); else state.events = old;
    });
    li.appendChild(x); ul.appendChild(li);
  });
}

const STAT_NAMES = ["margin", "profit", "revenue", "total_cost", "chips_required",
                    "chips_required_serving", "cost_per_mtok_output"];

function renderStats(d) {
  const t = $("stats"); t.replaceChildren();
  const head = t.createTHead().insertRow();
  for (const h of ["output", "unit", "5%", "median", "95%", "mean ± MCSE"]) {
    const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
  }
  const body = t.createTBody();
  for (const name of STAT_NAMES) {
    const s = d.summary[name]; const disp = d.display[name];
    if (!s || !disp) continue;
    const [div, unit] = disp;
    const row = body.insertRow();
    const cells = [name, unit, fmtNum(s.q05 / div), fmtNum(s.q50 / div), fmtNum(s.q95 / div),
                   `${fmtNum(s.mean / div)} ± ${fmtNum(s.mcse_mean / div, 2)}`];
    for (const c of cells) row.insertCell().textContent = c;
  }
}

const LAYOUT = {margin: {l: 60, r: 20, t: 32, b: 48}, height: 260, font: {size: 12},
                paper_bgcolor: "white", plot_bgcolor: "white"};
const CONFIG = {displaylogo: false, responsive: true, displayModeBar: false};

function hist(id, h, title) {
  if (!h) { $(id).replaceChildren(); return; }
  const mids = h.edges.slice(0, -1).map((e, i) => (e + h.edges[i + 1]) / 2);
  Plotly.react(id, [{type: "bar", x: mids, y: h.density, marker: {color: "#4477aa"},
                     hovertemplate: "%{x:.3s}: %{y:.3g}<extra></extra>"}],
               Object.assign({}, LAYOUT, {title: {text: title},
                 xaxis: {title: {text: h.label}, zeroline: true},
                 yaxis: {title: {text: `density (per ${h.unit})`}}, bargap: 0,
                 shapes: [{type: "line", x0: 0, x1: 0, yref: "paper", y0: 0, y1: 1,
                           line: {color: "#cc3311", dash: "dot"}}]}), CONFIG);
}

function renderCharts(c) {
  hist("chart-profit", c.profit, "Profit per day (every draw)");
  hist("chart-margin", c.margin, "Margin (every draw)");
  if (c.exceedance) {
    Plotly.react("chart-exceedance", [{type: "scatter", mode: "lines", x: c.exceedance.x,
                  y: c.exceedance.p, line: {color: "#228833"},
                  hovertemplate: "P(profit > %{x:.3s}) = %{y:.3f}<extra></extra>"}],
                 Object.assign({}, LAYOUT, {title: {text: "Chance that profit exceeds x"},
                   xaxis: {title: {text: c.exceedance.label}},
                   yaxis: {title: {text: "P(profit > x)"}, range: [0, 1]}}), CONFIG);
  }
  if (c.tornado) {
    const rows = c.tornado.slice().reverse();
    Plotly.react("chart-tornado", [{type: "bar", orientation: "h",
                  x: rows.map((r) => r.spearman), y: rows.map((r) => r.name),
                  marker: {color: rows.map((r) => (r.spearman >= 0 ? "#4477aa" : "#ee6677"))},
                  hovertemplate: "%{y}: %{x:.2f}<extra></extra>"}],
                 Object.assign({}, LAYOUT, {title: {text: "What drives profit"},
                   margin: {l: 140, r: 20, t: 32, b: 48},
                   xaxis: {title: {text: "rank correlation with profit"}, range: [-1, 1]}}),
                 CONFIG);
  }
}

// ------------------------------------------------------------------ tools
async function addEvent() {
  const text = $("event-input").value.trim();
  if (!text) return;
  const old = state.events;
  state.events = [...old, text];
  if (await redraw(state.sets, "events")) { writeUrl(); $("event-input").value = ""; }
  else state.events = old;
}

async function runCompare() {
  clearErrors();
  const bSets = $("compare-sets").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const r = await api("/api/compare", {a: view(), b: {scenario: $("compare-scenario").value,
                                                      sets: bSets},
                                       output: $("compare-output").value.trim()});
  const box = $("compare-result");
  if (!r.ok) { showError(r.data, "compare"); box.textContent = ""; return; }
  const d = r.data;
  const names = Object.keys(d.scenarios);
  const pair = d.pairs.find((p) => p.scenario === names[0]);
  const lines = names.map((n) => {
    const s = d.scenarios[n];
    const p = s.p_profitable === null ? "" :
      `, P(profit > 0) = ${s.p_profitable.toFixed(3)} ± ${s.p_profitable_mcse.toFixed(3)}`;
    return `${n}: median ${d.output} ${fmtNum(s[d.output].q50)}${p}`;
  });
  lines.push(`P(A's ${d.output} > B's, same draw) = ${pair.p_greater.toFixed(3)} ± ` +
             `${pair.p_greater_mcse.toFixed(3)} over ${d.draws.toLocaleString("en-US")} paired draws`);
  box.replaceChildren(...lines.map((l) => { const p = document.createElement("p"); p.textContent = l; return p; }));
  box.dataset.value = String(pair.p_greater);
  const e = d.ecdf;
  const colors = ["#4477aa", "#ee6677"], dashes = ["solid", "dash"];
  Plotly.react("chart-compare", names.map((n, i) => ({
    type: "scatter", mode: "lines", name: n, x: e.x[n], y: e.levels,
    line: {color: colors[i % 2], dash: dashes[i % 2], width: 2},
    hovertemplate: `${n}: P(${d.output} ≤ %{x:.3s}) = %{y:.3f}<extra></extra>`})),
    Object.assign({}, LAYOUT, {height: 300,
      title: {text: `A and B side by side: cumulative distribution of ${d.output}`},
      xaxis: {title: {text: e.label}}, yaxis: {title: {text: `P(${d.output} ≤ x)`}, range: [0, 1]},
      legend: {orientation: "h", y: -0.3}}), CONFIG);
}

async function runSolve() {
  clearErrors();
  const r = await api("/api/solve", view({vary: $("solve-vary").value.trim(),
                                          target: $("solve-target").value.trim()}));
  const box = $("solve-result");
  if (!r.ok) { showError(r.data, "vary"); box.textContent = ""; return; }
  const d = r.data;
  box.dataset.value = String(d.value);
  box.textContent = `${d.vary} = ${fmtNum(d.value, 4)} (${d.holds}); Monte Carlo range ` +
    `[${fmtNum(d.value_interval[0], 4)}, ${fmtNum(d.value_interval[1], 4)}]; ${d.target}: ` +
    `${fmtNum(d.achieved, 4)} ± ${fmtNum(d.achieved_mcse, 2)} there (${d.tries} tries on ` +
    `${d.draws.toLocaleString("en-US")} draws)`;
}

async function runFrontier() {
  clearErrors();
  const slo = $("frontier-slo").value.split(";").map((s) => s.trim()).filter(Boolean);
  const chips = $("frontier-chips").value.trim() || null;
  $("status").textContent = "drawing the frontier…";
  const r = await api("/api/frontier", view({slo, chips, draws: 4096}));
  $("status").textContent = "";
  if (!r.ok) { showError(r.data, "slo"); return; }
  const d = r.data;
  const traces = [];
  const colors = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377"];
  d.chips.forEach((c, i) => {
    // where at least 5% of draws reach the interactivity at all
    const rows = d.bands.filter((b) => b.chip === c.chip && b.p_reachable >= 0.05);
    const x = rows.map((b) => b.interactivity);
    const col = colors[i % colors.length];
    traces.push({x, y: rows.map((b) => b.tput_q05), mode: "lines", line: {width: 0},
                 showlegend: false, hoverinfo: "skip", name: `${c.chip} 5%`});
    traces.push({x, y: rows.map((b) => b.tput_q95), mode: "lines", line: {width: 0},
                 fill: "tonexty", fillcolor: col + "33", name: `${c.chip} 90% band`});
    traces.push({x, y: rows.map((b) => b.tput_q50), mode: "lines", line: {color: col, width: 2},
                 name: `${c.chip} median`});
  });
  Plotly.react("chart-frontier", traces, Object.assign({}, LAYOUT, {height: 340,
    title: {text: "Throughput per GPU against interactivity (median, 90% band; dotted: the SLO)"},
    xaxis: {title: {text: "interactivity (output tokens/s per user)"}},
    yaxis: {title: {text: "throughput (tokens/s per GPU)"}, rangemode: "tozero"},
    shapes: slo.length ? [{type: "line", x0: d.slo_interactivity, x1: d.slo_interactivity,
                           yref: "paper", y0: 0, y1: 1, line: {color: "#555", dash: "dot"}}] : []}),
    CONFIG);
  const t = $("frontier-table"); t.replaceChildren();
  const head = t.createTHead().insertRow();
  for (const h of ["chip", "P(SLO met)", "tokens/s per GPU at the SLO (median)",
                   "GPU $ per 1M output tokens (median)", "90% interval"]) {
    const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
  }
  const body = t.createTBody();
  for (const c of d.chips) {
    const cost = c.cost_per_mtok_output || {};
    const row = body.insertRow();
    const tput = c.tput_per_gpu || {};
    for (const v of [c.chip, `${c.p_slo_met.toFixed(3)} ± ${c.p_slo_met_mcse.toFixed(3)}`,
                     fmtNum(tput.q50), fmtNum(cost.q50), `[${fmtNum(cost.q05)}, ${fmtNum(cost.q95)}]`]) {
      row.insertCell().textContent = v;
    }
  }
}

async function runSave() {
  clearErrors();
  const r = await api("/api/save", view({name: $("save-name").value.trim()}));
  if (!r.ok) { showError(r.data, "name"); return; }
  $("save-result").textContent = `saved ${r.data.file} (${r.data.parameters.length} ` +
    `parameters differ from ${state.scenario}: ${r.data.parameters.join(", ") || "none"})`;
  $("save-result").dataset.file = r.data.file;
  for (const sel of [$("scenario"), $("compare-scenario")]) {  // the new file is offered
    if (![...sel.options].some((o) => o.value === r.data.scenario)) {
      const o = document.createElement("option"); o.value = r.data.scenario;
      o.textContent = `${r.data.scenario}: saved view`; sel.appendChild(o);
    }
  }
}

async function poll(job, done) {
  const wrap = $("progress-wrap"); wrap.hidden = false;
  for (;;) {
    const r = await api(`/api/jobs/${job}`);
    if (!r.ok) { showError(r.data); break; }
    const j = r.data;
    $("progress").max = j.total; $("progress").value = j.done;
    $("progress-text").textContent = `${j.what}: ${j.done.toLocaleString("en-US")} of ` +
      `${j.total.toLocaleString("en-US")} draws`;
    if (j.state === "done") { done(j.result); break; }
    if (j.state === "error") { showError({error: j.error, param: j.param}); break; }
    await new Promise((res) => setTimeout(res, 250));
  }
  wrap.hidden = true;
}

async function runRefine() {
  clearErrors();
  const r = await api("/api/refine", view({draws: 1048576}));
  if (!r.ok) { showError(r.data); return; }
  await poll(r.data.job, (d) => { render(d); bump(); });
}

async function runReport() {
  clearErrors();
  const r = await api("/api/report", view());
  if (!r.ok) { showError(r.data); return; }
  await poll(r.data.job, (d) => {
    $("status").textContent = `report written: ${d.run_dir}`;
    window.open(d.report, "_blank");
  });
}

// ------------------------------------------------------------------ start
async function selectScenario(name, keepSets = false) {
  state.scenario = name;
  if (!keepSets) { state.sets = new Map(); state.events = []; drawsGiven = false; }
  let r = await loadControls();
  if (r.ok && !drawsGiven) {
    state.draws = defaultDraws(r.data.serving);
    $("draws").value = String(state.draws);
  }
  if (!r.ok && keepSets) {  // a shared link with a setting the scenario refuses
    showError(r.data); state.sets = new Map(); r = await loadControls();
  }
  if (!r.ok) { showError(r.data); return; }
  if (await redraw()) writeUrl();
}

async function start() {
  readUrl();
  const r = await api("/api/scenarios");
  if (!r.ok) { showError(r.data); return; }
  const usable = r.data.scenarios.filter((s) => !s.error);
  for (const sel of [$("scenario"), $("compare-scenario")]) {
    for (const s of usable) {
      const o = document.createElement("option"); o.value = s.name;
      o.textContent = `${s.name}: ${s.title}`; sel.appendChild(o);
    }
  }
  if (!state.scenario || !usable.some((s) => s.name === state.scenario)) {
    state.scenario = (usable.find((s) => s.name === "deepseek-adjusted") || usable[0]).name;
  }
  $("scenario").value = state.scenario;
  $("compare-scenario").value = state.scenario;
  $("seed").value = String(state.seed);
  $("draws").value = String(state.draws);
  $("scenario").addEventListener("change", () => selectScenario($("scenario").value));
  $("seed").addEventListener("change", async () => {
    const old = state.seed; const v = parseInt($("seed").value, 10);
    state.seed = Number.isFinite(v) ? v : old;
    if (await redraw(state.sets, "seed")) writeUrl(); else state.seed = old;
  });
  $("draws").addEventListener("change", async () => {
    state.draws = parseInt($("draws").value, 10); drawsGiven = true;
    if (await redraw()) writeUrl();
  });
  $("event-add").addEventListener("click", addEvent);
  $("event-input").addEventListener("keydown", (e) => { if (e.key === "Enter") addEvent(); });
  $("compare-run").addEventListener("click", runCompare);
  $("solve-run").addEventListener("click", runSolve);
  $("frontier-run").addEventListener("click", runFrontier);
  $("save-run").addEventListener("click", runSave);
  $("refine").addEventListener("click", runRefine);
  $("report").addEventListener("click", runReport);
  $("reset").addEventListener("click", () => selectScenario(state.scenario));
  await selectScenario(state.scenario, true);
  document.body.dataset.ready = "1";
}

start();
