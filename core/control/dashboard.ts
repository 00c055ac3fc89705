/**
 * The live dashboard served at `GET /`: one self-contained HTML page (no CDN, no build step) that
 * follows `/v1/events`, draws per-VM CPU share, pCPU utilisation, page faults and I/O latency with
 * the same chart code as the HTML reports, lists incidents and policies, and has controls to
 * pause, step, change speed, swap a policy and change a VM's weight or cap. It opens with the
 * recent history the `hello` event carries, and marks swaps, VM changes and incidents on its
 * charts (hover a mark for what it was).
 *
 * @module
 */

import { limitSeries, renderChart } from "../report/svg.ts";

/** Options of {@linkcode dashboardHtml}. */
export interface DashboardOptions {
  /** The bearer token the page uses for its requests (it is only served to holders of it). */
  token: string;
}

/**
 * The dashboard page.
 *
 * @example
 * ```ts
 * import { dashboardHtml } from "./dashboard.ts";
 * console.assert(dashboardHtml({ token: "t" }).startsWith("<!doctype html>"));
 * ```
 */
export function dashboardHtml(options: DashboardOptions): string {
  const token = JSON.stringify(options.token).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hyperhook · live</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>hyperhook <span id="workload">…</span></h1>
  <div class="clock">
    <span>simulated <b id="now">–</b></span>
    <span>speed <b id="speed">–</b></span>
    <span id="status" class="badge">connecting</span>
    <span id="conn" class="badge off">offline</span>
  </div>
  <div class="controls">
    <button id="pause">Pause</button>
    <button id="resume">Resume</button>
    <button id="step" title="Advance a paused clock by 10 ms">Step 10ms</button>
    <label>speed <select id="speed-select">
      <option>0.1</option><option>0.5</option><option selected>1</option><option>2</option>
      <option>5</option><option>10</option><option>100</option><option>max</option>
    </select></label>
  </div>
</header>
<p id="message" role="status"></p>
<main>
  <section class="chart" id="chart-share"></section>
  <section class="chart" id="chart-util"></section>
  <section class="chart" id="chart-faults"></section>
  <section class="chart" id="chart-io"></section>
  <section class="wide">
    <h2>VMs</h2>
    <table id="vm-table">
      <thead><tr><th>vm</th><th>vCPUs</th><th>status</th><th>weight</th><th>cap %</th><th></th>
      <th>share</th><th>recent</th><th>wait</th><th>lat p99</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Policies</h2>
    <table id="policies"><thead><tr><th>domain</th><th>policy</th><th>isolation</th><th>sha256</th></tr></thead><tbody></tbody></table>
    <form id="swap-form">
      <h3>Swap a policy</h3>
      <label>domain <select name="domain"><option>cpu</option><option>memory</option><option>io</option></select></label>
      <label>policy <input name="use" placeholder="rr, fcfs, srtf, npm:my-policy@1.0.0" value=""></label>
      <label>config <input name="config" placeholder='{"quantum":"5ms"}' value=""></label>
      <label class="block">or module text <textarea name="source" rows="4" placeholder="export default defineCpuPolicy({ … })"></textarea></label>
      <button type="submit">Swap</button>
    </form>
  </section>
  <section>
    <h2>Incidents</h2>
    <ol id="incidents"></ol>
  </section>
</main>
<script>
"use strict";
const TOKEN = ${token};
const renderChart = ${renderChart.toString()};
const limitSeries = ${limitSeries.toString()};
${SCRIPT}
</script>
</body>
</html>
`;
}

const STYLE = `
#incidents li.none { list-style: none; margin-left: -1.2em; color: #6b7280; }
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#222;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:12px 28px;align-items:center;padding:10px 18px;background:#1f2a37;color:#f3f4f6}
h1{font-size:18px;margin:0;font-weight:600}h1 span{font-weight:400;color:#cbd5e1}
h2{font-size:15px;margin:0 0 8px}h3{font-size:13px;margin:12px 0 6px}
.clock{display:flex;gap:16px;align-items:center}.controls{display:flex;gap:8px;align-items:center}
.badge{padding:1px 8px;border-radius:9px;background:#16a34a;color:#fff;font-size:12px}
.badge.off,.badge.paused{background:#b45309}.badge.ended{background:#6b7280}
button{font:inherit;padding:3px 10px;border:1px solid #94a3b8;border-radius:4px;background:#fff;cursor:pointer}
button:hover{background:#eef2f7}
header button{background:#334155;color:#f3f4f6;border-color:#475569}
#message{margin:0;padding:4px 18px;min-height:26px;font-size:13px;color:#334155}
#message.error{color:#b91c1c}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px;padding:0 18px 18px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:10px 12px;overflow:auto}
section.wide{grid-column:1/-1}
.chart{min-height:284px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:right;padding:3px 6px;border-bottom:1px solid #edf0f3;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td input{width:70px;font:inherit;text-align:right}
.swatch{display:inline-block;width:9px;height:9px;margin-right:6px;border-radius:2px}
tr.removed td{color:#9ca3af;text-decoration:line-through}
form label{display:inline-flex;gap:6px;align-items:center;margin:4px 10px 4px 0}
form label.block{display:flex;flex-direction:column;align-items:stretch}
form input{font:inherit;width:200px}textarea{font:12px monospace;width:100%}
#incidents{margin:0;padding-left:20px;font-size:13px}#incidents li{margin-bottom:4px}
`;

const SCRIPT = `
const $ = (selector) => document.querySelector(selector);
const MAX_POINTS = 240;
let state = null, previous = null, drawing = false;
const history = { share: new Map(), util: [], faults: [], io: [] };
// Changes marked on the charts (swaps, VM changes); incidents come from the state.
let changeMarks = [];
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
  "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#d62728", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f"];
const colours = new Map();
// A VM keeps its colour whatever its rank in the legend.
const colourOf = (id) => {
  if (!colours.has(id)) colours.set(id, PALETTE[colours.size % PALETTE.length]);
  return colours.get(id);
};

function fmtNs(ns) {
  if (ns === null || ns === undefined) return "–";
  if (ns >= 1e9) return (ns / 1e9).toFixed(ns >= 1e11 ? 0 : 2) + " s";
  if (ns >= 1e6) return (ns / 1e6).toFixed(1) + " ms";
  if (ns >= 1e3) return (ns / 1e3).toFixed(1) + " µs";
  return ns + " ns";
}
const pct = (x) => (100 * x).toFixed(1) + "%";

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: "Bearer " + TOKEN, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  if (!response.ok) throw new Error(json && json.error ? json.error.message : response.status + " " + text);
  return json;
}

function say(text, error) {
  const line = $("#message");
  line.textContent = text;
  line.className = error ? "error" : "";
}

async function act(label, task) {
  try {
    const result = await task();
    say(typeof result === "string" ? result : label);
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

function push(list, point) {
  list.push(point);
  if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
}

function onSample(sample) {
  if (previous !== null && sample.nowNs > previous.nowNs) {
    const span = sample.nowNs - previous.nowNs, pcpus = Math.max(1, sample.pcpus.length);
    for (const [id, figures] of Object.entries(sample.vms)) {
      const before = previous.vms[id];
      if (before === undefined) continue;
      if (!history.share.has(id)) history.share.set(id, []);
      push(history.share.get(id), [sample.nowNs, (figures.runNs - before.runNs) / (span * pcpus)]);
    }
    for (const id of history.share.keys()) if (!(id in sample.vms)) history.share.delete(id);
    sample.pcpus.forEach((busy, i) => {
      if (history.util[i] === undefined) history.util[i] = [];
      push(history.util[i], [sample.nowNs, (busy - (previous.pcpus[i] || 0)) / span]);
    });
    const memory = sample.domains && sample.domains.memory, before = previous.domains && previous.domains.memory;
    if (memory && before && typeof memory.faults === "number") {
      push(history.faults, [sample.nowNs, (memory.faults - before.faults) / (span / 1e9)]);
    }
    const io = sample.domains && sample.domains.io;
    if (io && io.latencyNs && typeof io.latencyNs.p99 === "number") {
      push(history.io, [sample.nowNs, io.latencyNs.p99]);
    }
  }
  previous = sample;
  showClock(sample);
  schedule();
}

function showClock(view) {
  $("#now").textContent = fmtNs(view.nowNs);
  $("#speed").textContent = view.speed === "max" ? "max" : view.speed + "×";
  const select = $("#speed-select");
  if (document.activeElement !== select) select.value = String(view.speed);
  const status = $("#status");
  status.textContent = view.ended ? "ended" : view.paused ? "paused" : "running";
  status.className = "badge " + (view.ended ? "ended" : view.paused ? "paused" : "");
}

function schedule() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => { drawing = false; drawCharts(); });
}

function paramsText(params) {
  return Object.entries(params || {}).filter(([, v]) => typeof v !== "object")
    .map(([k, v]) => k + " " + v).join(", ");
}

// A change as a mark, or null for one that changes no figure (pause, speed, step).
function markOf(change) {
  const result = change.result || {};
  const label = change.op === "policy.swap"
    ? "swap " + result.domain + " policy to " + (result.policy && result.policy.name)
    : change.op === "vm.patch" ? "set " + result.id + ": " + paramsText(result.params)
    : change.op === "vm.add" ? "add " + result.id
    : change.op === "vm.remove" ? "remove " + result.id : null;
  return label === null ? null
    : { x: change.atNs, label, color: change.op === "policy.swap" ? "#7c3aed" : "#6b7280" };
}

function marks() {
  const incidents = (state && state.incidents || []).map((incident) => ({
    x: incident.atNs, color: "#dc2626",
    label: "incident: " + incident.domain + " policy " + incident.policy + " ejected (" + incident.kind + ")",
  }));
  return [...changeMarks, ...incidents];
}

function drawCharts() {
  const marked = marks();
  const limited = limitSeries([...history.share.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, points]) => ({ name, points })), 12);
  $("#chart-share").innerHTML = renderChart({
    kind: "line", title: "CPU share by VM", note: limited.note || undefined, marks: marked,
    series: limited.series.map(({ name, points }) => ({ name, points, color: colourOf(name) })),
    xFormat: "s", yFormat: "pct", xLabel: "simulated time", yMin: 0, empty: "Waiting for samples…",
  });
  $("#chart-util").innerHTML = renderChart({
    kind: "line", title: "pCPU utilisation", yMin: 0, yMax: 1, xFormat: "s", yFormat: "pct",
    xLabel: "simulated time", series: history.util.map((points, i) => ({ name: "pCPU " + i, points })),
    empty: "Waiting for samples…", marks: marked,
  });
  const hasMemory = state && state.policies && state.policies.memory;
  $("#chart-faults").innerHTML = renderChart({
    kind: "line", title: "Page faults per simulated second", yMin: 0, xFormat: "s", marks: marked,
    xLabel: "simulated time", series: history.faults.length ? [{ name: "faults/s", points: history.faults }] : [],
    empty: hasMemory ? "Waiting for samples…" : "No memory domain in this workload",
  });
  const hasIo = state && state.policies && state.policies.io;
  $("#chart-io").innerHTML = renderChart({
    kind: "line", title: "I/O latency (p99)", yMin: 0, xFormat: "s", yFormat: "ms", marks: marked,
    xLabel: "simulated time", series: history.io.length ? [{ name: "p99", points: history.io }] : [],
    empty: hasIo ? "Waiting for samples…" : "No I/O domain in this workload",
  });
}

function cell(row, index) {
  while (row.cells.length <= index) row.insertCell();
  return row.cells[index];
}

function renderVms() {
  const body = $("#vm-table tbody");
  const rows = new Map([...body.rows].map((row) => [row.dataset.vm, row]));
  for (const vm of state.vms) {
    let row = rows.get(vm.id);
    if (row === undefined) {
      row = body.insertRow();
      row.dataset.vm = vm.id;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colourOf(vm.id);
      cell(row, 0).append(swatch, vm.id);
      cell(row, 3).innerHTML = '<input name="weight" type="number" min="1" max="65535">';
      cell(row, 4).innerHTML = '<input name="cap" type="number" min="0">';
      cell(row, 5).innerHTML = '<button name="apply">Apply</button>';
      cell(row, 10).innerHTML = '<button name="remove" title="Remove this VM">✕</button>';
      row.querySelector("[name=apply]").addEventListener("click", () => applyParams(vm.id, row));
      row.querySelector("[name=remove]").addEventListener("click", () =>
        act("Removed " + vm.id, () => api("DELETE", "/v1/vms/" + encodeURIComponent(vm.id))));
    }
    row.className = vm.removedNs !== null ? "removed" : "";
    cell(row, 1).textContent = vm.vcpus;
    cell(row, 2).textContent = vm.removedNs !== null ? "removed"
      : Object.entries(vm.status).map(([k, v]) => v + " " + k).join(", ");
    for (const name of ["weight", "cap"]) {
      const input = row.querySelector("[name=" + name + "]");
      if (document.activeElement !== input && input.dataset.dirty !== "1") input.value = vm.params[name];
      input.oninput = () => { input.dataset.dirty = "1"; };
      input.disabled = vm.removedNs !== null;
    }
    cell(row, 6).textContent = pct(vm.cpu.share);
    cell(row, 7).textContent = pct(vm.cpu.recentShare);
    cell(row, 8).textContent = fmtNs(vm.cpu.waitNs);
    cell(row, 9).textContent = fmtNs(vm.cpu.latencyNs.p99);
  }
}

async function applyParams(id, row) {
  const weight = Number(row.querySelector("[name=weight]").value);
  const cap = Number(row.querySelector("[name=cap]").value);
  await act("Set " + id + ": weight " + weight + ", cap " + cap + "%", async () => {
    await api("PATCH", "/v1/vms/" + encodeURIComponent(id), { weight, cap });
    for (const input of row.querySelectorAll("input")) input.dataset.dirty = "";
  });
}

function renderPolicies() {
  const body = $("#policies tbody");
  body.innerHTML = "";
  for (const [domain, policy] of Object.entries(state.policies)) {
    const row = body.insertRow();
    row.dataset.domain = domain;
    const values = [domain, policy.name + (policy.underTest ? "" : " (fallback)"), policy.isolation,
      (policy.sha256 || "").slice(0, 12)];
    values.forEach((text, i) => { cell(row, i).textContent = text; });
  }
}

function renderIncidents() {
  const list = $("#incidents");
  list.innerHTML = "";
  if (state.incidents.length === 0) {
    list.innerHTML = "<li class=none>None so far</li>";
    return;
  }
  for (const incident of state.incidents.slice(-50).reverse()) {
    const item = document.createElement("li");
    item.textContent = fmtNs(incident.atNs) + " · " + incident.domain + " · " + incident.policy +
      " ejected (" + incident.kind + "/" + incident.reason + "): " + incident.message;
    list.appendChild(item);
  }
}

function setState(next) {
  state = next;
  $("#workload").textContent = state.workload;
  showClock(state);
  renderVms();
  renderPolicies();
  renderIncidents();
  schedule();
}

async function refresh() {
  try {
    setState(await api("GET", "/v1/state"));
  } catch (error) {
    say(error.message, true);
  }
}

async function listen() {
  for (;;) {
    try {
      const response = await fetch("/v1/events", { headers: { authorization: "Bearer " + TOKEN } });
      if (!response.ok || response.body === null) throw new Error("events: HTTP " + response.status);
      $("#conn").textContent = "live";
      $("#conn").className = "badge";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\\n\\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message", data = "";
          for (const line of block.split("\\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data !== "") handle(event, JSON.parse(data));
        }
      }
    } catch (error) {
      say("Event stream: " + error.message, true);
    }
    $("#conn").textContent = "offline";
    $("#conn").className = "badge off";
    await new Promise((done) => setTimeout(done, 1000));
  }
}

// The hello event carries the recent history: the charts start from it, not empty.
function backfill(recent) {
  history.share = new Map();
  history.util = [];
  history.faults = [];
  history.io = [];
  previous = null;
  for (const sample of recent.samples || []) onSample(sample);
  changeMarks = (recent.changes || []).map(markOf).filter((mark) => mark !== null);
}

function handle(event, data) {
  if (event === "hello") {
    if (data.history) backfill(data.history);
    setState(data);
  } else if (event === "sample") onSample(data);
  else if (event === "change") {
    const mark = markOf(data);
    if (mark !== null) changeMarks.push(mark);
    if (changeMarks.length > 100) changeMarks.shift();
    refresh();
  } else if (event === "incident" || event === "ended") refresh();
}

$("#pause").addEventListener("click", () => act("Paused", () => api("POST", "/v1/sim/pause")));
$("#resume").addEventListener("click", () => act("Resumed", () => api("POST", "/v1/sim/resume")));
$("#step").addEventListener("click", () => act("Stepped 10ms", () => api("POST", "/v1/sim/step", { by: "10ms" })));
$("#speed-select").addEventListener("change", (event) => {
  const value = event.target.value;
  act("Speed " + value, () => api("PUT", "/v1/sim/speed", { speed: value === "max" ? "max" : Number(value) }));
});
$("#swap-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const domain = form.domain.value, use = form.use.value.trim(), source = form.source.value;
  let config;
  try {
    config = form.config.value.trim() === "" ? undefined : JSON.parse(form.config.value);
  } catch (error) {
    say("config: not valid JSON (" + error.message + ")", true);
    return;
  }
  const body = source.trim() !== "" ? { source, config } : { use, config };
  act("Swapped the " + domain + " policy", async () => {
    const answer = await api("PUT", "/v1/policies/" + domain, body);
    return "Swapped the " + domain + " policy to " + answer.policy.name;
  });
});
// The token came in the address once; the cookie and the page carry it from now on.
if (location.search.includes("token=")) window.history.replaceState(null, "", "/");
refresh();
listen();
setInterval(refresh, 2000);
`;
