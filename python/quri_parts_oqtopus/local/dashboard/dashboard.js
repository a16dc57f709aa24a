// The dashboard of the local OQTOPUS server: jobs and devices, read from the user API.
// The token lives in this tab's sessionStorage and travels only in the API's token header.
// Everything the server holds reaches the page through text nodes and attributes set one
// by one (never as HTML): job names and descriptions are anyone's text.
"use strict";

(() => {
  const TOKEN_KEY = "oqtopus-dashboard-token";
  const PAGE_SIZES = [10, 20, 50, 100];
  const TOP_OUTCOMES = 32;
  const LIST_FIELDS = [
    "job_id", "name", "description", "status", "job_type", "device_id", "shots",
    "submitted_at", "ended_at",
  ];
  // Light is good, dark is bad (as in quri_parts_oqtopus.plot).
  const GATE_COLOURS = [[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]];
  const READOUT_COLOURS = [[255, 255, 204], [254, 178, 76], [240, 59, 32], [128, 0, 38]];
  const SVG_NS = "http://www.w3.org/2000/svg";
  const SPRING_MAX_QUBITS = 300; // beyond, qubits stay around the circle (the layout is n²)

  let contract = null; // {token_header, job_statuses}: the server's _contract, served as JSON
  let generation = 0; // the latest view asked for: an older answer arriving late is dropped

  // -- text and elements ---------------------------------------------------------------

  // Control, format and separator characters (ESC, bidi overrides, zero-width ...) are
  // written as escapes, as the CLI prints them: they cannot hide or reorder text.
  const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

  function escaped(char) {
    const code = char.codePointAt(0);
    if (code <= 0xff) return "\\x" + code.toString(16).padStart(2, "0");
    if (code <= 0xffff) return "\\u" + code.toString(16).padStart(4, "0");
    return "\\U" + code.toString(16).padStart(8, "0");
  }

  function shown(value) {
    return String(value).replace(UNPRINTABLE, (c) => (c === "\n" || c === "\t" ? c : escaped(c)));
  }

  function append(node, children) {
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(shown(child)));
    }
    return node;
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "dataset") Object.assign(node.dataset, value);
      else node[key] = value;
    }
    return append(node, children);
  }

  function svgEl(tag, attributes, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    return append(node, children);
  }

  function link(hash, text) {
    return el("a", { href: hash }, text);
  }

  function definitions(rows) {
    const list = el("dl");
    for (const [term, value] of rows) {
      append(list, [el("dt", {}, term), el("dd", {}, value ?? "—")]);
    }
    return list;
  }

  function table(className, headings, rows) {
    const head = el("tr", {}, ...headings.map((h) => el("th", { scope: "col" }, h)));
    const body = rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c ?? "—"))));
    return el("table", { className }, el("thead", {}, head), el("tbody", {}, ...body));
  }

  function pretty(value) {
    return el("pre", {}, JSON.stringify(value, null, 2) ?? "—");
  }

  // A timestamp to the second, for tables ("2026-12-06 10:55:24"); the full text on hover.
  function moment(text) {
    if (typeof text !== "string") return null;
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(text);
    return el("time", { title: text }, iso ? text.slice(0, 19).replace("T", " ") : text);
  }

  function seconds(value) {
    return value === null || value === undefined ? "—" : `${Number(value).toFixed(3)} s`;
  }

  // -- the API -------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return typeof body.message === "string" ? body.message : response.statusText;
    } catch {
      return response.statusText;
    }
  }

  // One call of the user API, relative to this page (the server that served it). Job and
  // device objects come with job_info and device_info inline (this server's extension
  // header), so the page reads no archive: the server's one reader does that.
  async function api(path) {
    const headers = { [contract.inline_header]: "1" };
    if (token()) headers[contract.token_header] = token();
    const response = await fetch(path, { headers, cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new ApiError(response.status, await errorText(response));
    return response.json();
  }

  // -- jobs ----------------------------------------------------------------------------

  function wholeNumber(text, fallback) {
    const number = Number(text);
    return Number.isInteger(number) && number >= 1 ? number : fallback;
  }

  function jobsHash(filters) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    return `#/jobs?${query}`;
  }

  // A description's tags: its last line, "tags: #chem #run-7", as submissions write it. A
  // line that only looks so (a word without the mark, a character a tag cannot hold, more
  // tags than a job has) is the user's own text: no tags, as the Python client reads it.
  function validTag(tag) {
    if (tag.length < 1 || tag.length > contract.max_tag_length) return false;
    return [...tag].every((c) => /[A-Za-z0-9]/.test(c) || contract.tag_characters.includes(c));
  }

  function describedTags(description) {
    const text = typeof description === "string" ? description : "";
    const cut = text.lastIndexOf("\n");
    const last = text.slice(cut + 1);
    const none = { text, tags: [] };
    if (!last.startsWith(contract.tags_line_prefix)) return none;
    const words = last.slice(contract.tags_line_prefix.length).split(" ");
    if (words.length > contract.max_tags) return none;
    const tags = [];
    for (const word of words) {
      const tag = word.slice(contract.tag_mark.length);
      if (!word.startsWith(contract.tag_mark) || !validTag(tag)) return none;
      if (!tags.includes(tag)) tags.push(tag);
    }
    return { text: cut < 0 ? "" : text.slice(0, cut), tags };
  }

  function jobFilters(filters) {
    const status = el("select", { id: "filter-status" }, el("option", { value: "" }, "any status"));
    for (const name of contract.job_statuses) status.append(el("option", { value: name }, name));
    status.value = filters.status;
    const text = el("input", { id: "filter-text", type: "search", value: filters.q });
    const tag = el("input", { id: "filter-tag", type: "search", value: filters.tag });
    const size = el("select", { id: "filter-size" });
    for (const n of PAGE_SIZES) size.append(el("option", { value: String(n) }, `${n} per page`));
    size.value = String(filters.size);
    const form = el("form", { id: "job-filters" },
      el("label", { htmlFor: "filter-status" }, "status"), status,
      el("label", { htmlFor: "filter-tag" }, "tag"), tag,
      el("label", { htmlFor: "filter-text" }, "text"), text, size,
      el("button", { type: "submit", id: "filter-apply" }, "Filter"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = jobsHash({
        status: status.value, tag: tag.value.trim(), q: text.value, size: size.value, page: 1,
      });
    });
    return form;
  }

  function jobRow(job) {
    const id = link(`#/jobs/${encodeURIComponent(job.job_id)}`, job.job_id);
    const status = el("span", { className: "status", dataset: { status: job.status } }, job.status);
    const device = job.device_id
      ? link(`#/devices/${encodeURIComponent(job.device_id)}`, job.device_id) : null;
    // The description under the name, its tags line shown as tags.
    const described = describedTags(job.description);
    const about = described.text ? el("div", { className: "description" }, described.text) : null;
    const tags = described.tags.length ? el("div", { className: "tags" },
      ...described.tags.map((t) => el("span", { className: "tag" }, contract.tag_mark + t))) : null;
    return [id, el("span", {}, job.name ?? "", about, tags), status, job.job_type, device, job.shots,
      moment(job.submitted_at), moment(job.ended_at)];
  }

  function pager(filters, count) {
    const previous = el("button", { type: "button", id: "page-previous" }, "Previous");
    const next = el("button", { type: "button", id: "page-next" }, "Next");
    previous.disabled = filters.page <= 1;
    next.disabled = count < filters.size; // a short page is the last
    previous.addEventListener("click", () => {
      location.hash = jobsHash({ ...filters, page: filters.page - 1 });
    });
    next.addEventListener("click", () => {
      location.hash = jobsHash({ ...filters, page: filters.page + 1 });
    });
    return el("div", { className: "pager" }, previous,
      el("span", { id: "page-number" }, `page ${filters.page}`), next);
  }

  async function jobsView(params) {
    const size = wholeNumber(params.get("size"), PAGE_SIZES[0]);
    const filters = {
      status: params.get("status") || "", q: params.get("q") || "", tag: params.get("tag") || "",
      size: PAGE_SIZES.includes(size) ? size : PAGE_SIZES[0],
      page: wholeNumber(params.get("page"), 1),
    };
    const query = new URLSearchParams({
      page: filters.page, size: filters.size, order: "DESC", fields: LIST_FIELDS.join(","),
    });
    if (filters.status) query.set("status", filters.status);
    // The server's q finds "#run-7" in "#run-70" too: the tag is then checked exactly here.
    const search = filters.q || (filters.tag ? contract.tag_mark + filters.tag : "");
    if (search) query.set("q", search);
    const jobs = await api(`jobs?${query}`);
    const shown = filters.tag
      ? jobs.filter((job) => describedTags(job.description).tags.includes(filters.tag)) : jobs;
    const headings = ["job", "name", "status", "type", "device", "shots", "submitted", "ended"];
    const rows = table("jobs", headings, shown.map(jobRow));
    const empty = shown.length ? null : el("p", { className: "empty" }, "No jobs on this page.");
    return [el("h2", {}, "Jobs"), jobFilters(filters), rows, empty, pager(filters, jobs.length)];
  }

  // -- one job -------------------------------------------------------------------------

  function parseTime(text) {
    if (typeof text !== "string") return NaN;
    return Date.parse(text.replace(/(\.\d{3})\d+/, "$1")); // microseconds: Date keeps ms
  }

  function between(start, end) {
    const span = (parseTime(end) - parseTime(start)) / 1000;
    return Number.isFinite(span) ? Math.max(span, 0) : null; // two clocks may disagree
  }

  function timing(job) {
    const rows = [
      ["queued (submitted → ready)", seconds(between(job.submitted_at, job.ready_at))],
      ["ready → running", seconds(between(job.ready_at, job.running_at))],
      ["running → ended", seconds(between(job.running_at, job.ended_at))],
      ["total (submitted → ended)", seconds(between(job.submitted_at, job.ended_at))],
      ["execution_time (the server's)", seconds(job.execution_time)],
    ];
    const stamps = ["submitted_at", "ready_at", "running_at", "ended_at"].map((k) => [k, job[k]]);
    return el("section", { id: "job-timing" }, el("h3", {}, "Timing"),
      table("timing", ["phase", "seconds"], rows), definitions(stamps));
  }

  function countsOf(value) {
    const counts = typeof value === "string" ? JSON.parse(value) : value;
    return Object.entries(counts || {}).map(([bits, n]) => [bits, Number(n)])
      .filter(([, n]) => Number.isFinite(n) && n >= 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }

  function histogram(value) {
    const outcomes = countsOf(value);
    const total = outcomes.reduce((sum, [, n]) => sum + n, 0);
    const shownOutcomes = outcomes.slice(0, TOP_OUTCOMES);
    const rest = outcomes.slice(TOP_OUTCOMES);
    if (rest.length) shownOutcomes.push([`other (${rest.length})`, total - sumOf(shownOutcomes)]);
    const largest = Math.max(1, ...shownOutcomes.map(([, n]) => n));
    const rows = shownOutcomes.map(([bits, n]) => {
      const bar = el("div", { className: "bar" });
      bar.style.width = `${(100 * n) / largest}%`; // CSSOM, which the CSP allows
      const share = total ? `${((100 * n) / total).toFixed(1)} %` : "—";
      return el("tr", {}, el("th", { scope: "row" }, bits),
        el("td", { className: "bar-cell" }, bar), el("td", {}, String(n)), el("td", {}, share));
    });
    return el("table", { className: "histogram" }, el("tbody", {}, ...rows));
  }

  function sumOf(outcomes) {
    return outcomes.reduce((sum, [, n]) => sum + n, 0);
  }

  function resultSection(result) {
    const section = el("section", { id: "job-result" }, el("h3", {}, "Result"));
    const sampling = result && result.sampling;
    const estimation = result && result.estimation;
    if (sampling) {
      append(section, [histogram(sampling.counts)]);
      const divided = typeof sampling.divided_counts === "string"
        ? JSON.parse(sampling.divided_counts) : sampling.divided_counts;
      for (const [index, counts] of Object.entries(divided || {})) {
        append(section, [el("h4", {}, `program ${index}`), histogram(counts)]);
      }
    } else if (estimation) {
      const values = [["exp_value", estimation.exp_value], ["stds", estimation.stds]];
      append(section, [definitions(values)]);
    } else {
      append(section, [result ? pretty(result) : el("p", { className: "empty" }, "No result.")]);
    }
    return section;
  }

  function transpileSection(transpiled) {
    const section = el("section", { id: "job-transpile" }, el("h3", {}, "Transpile result"));
    if (!transpiled) return append(section, [el("p", { className: "empty" }, "Not transpiled.")]);
    const parsed = (v) => (typeof v === "string" ? JSON.parse(v) : v);
    return append(section, [
      el("h4", {}, "transpiled program"),
      el("pre", { className: "program" }, transpiled.transpiled_program ?? "—"),
      el("h4", {}, "stats"), pretty(parsed(transpiled.stats)),
      el("h4", {}, "virtual → physical mapping"),
      pretty(parsed(transpiled.virtual_physical_mapping)),
    ]);
  }

  // A part of job_info that cannot be read shows why, in its place; the rest still shows.
  async function readable(read, draw) {
    try {
      return draw(await read());
    } catch (error) {
      return el("p", { className: "error" }, `could not read it: ${error.message}`);
    }
  }

  async function jobView(id) {
    const job = await api(`jobs/${encodeURIComponent(id)}`);
    const info = job.job_info || {};
    const [result, transpiled] = await Promise.all([
      readable(async () => info.result ?? null, resultSection),
      readable(async () => info.transpile_result ?? null, transpileSection),
    ]);
    const summary = definitions([
      ["job", job.job_id], ["name", job.name], ["description", job.description],
      ["type", job.job_type], ["status", job.status], ["device", job.device_id],
      ["shots", job.shots], ["message", info.message],
    ]);
    const settings = el("section", { id: "job-settings" }, el("h3", {}, "Settings"),
      el("h4", {}, "transpiler_info"), pretty(job.transpiler_info),
      el("h4", {}, "mitigation_info"), pretty(job.mitigation_info),
      el("h4", {}, "simulator_info"), pretty(job.simulator_info));
    const title = el("h2", { id: "job-title" }, job.name || job.job_id);
    const back = el("p", {}, link("#/jobs", "← jobs"));
    return [back, title, summary, timing(job), result, transpiled, settings];
  }

  // -- devices -------------------------------------------------------------------------

  function deviceRow(device) {
    return [link(`#/devices/${encodeURIComponent(device.device_id)}`, device.device_id),
      device.device_type, device.status, device.n_qubits, device.n_pending_jobs,
      device.calibrated_at, device.description];
  }

  async function devicesView() {
    const devices = await api("devices");
    const headings = ["device", "type", "status", "qubits", "pending jobs", "calibrated",
      "description"];
    return [el("h2", {}, "Devices"), table("devices", headings, devices.map(deviceRow))];
  }

  function finite(value) {
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  }

  function readoutError(qubit) {
    const meas = qubit.meas_error || {};
    const given = finite(meas.readout_assignment_error);
    if (given !== null) return given;
    const flips = [finite(meas.prob_meas1_prep0), finite(meas.prob_meas0_prep1)];
    return flips.includes(null) ? null : (flips[0] + flips[1]) / 2;
  }

  function gateError(entry) {
    const fidelity = finite(entry.fidelity);
    return fidelity === null ? null : 1 - fidelity;
  }

  function colour(stops, fraction) {
    const t = Math.min(Math.max(fraction, 0), 1) * (stops.length - 1);
    const low = Math.floor(Math.min(t, stops.length - 2));
    const mix = stops[low].map((c, i) => Math.round(c + (stops[low + 1][i] - c) * (t - low)));
    return `rgb(${mix.join(",")})`;
  }

  // Where each qubit is drawn: device_info's positions when every qubit has a distinct one
  // spread over a plane (as quri_parts_oqtopus.plot decides), else around a circle pulled
  // into shape by the couplings (a ring stays a circle; a heavy-hex lattice unfolds).
  function layout(qubits, links, index) {
    const points = qubits.map((q) => [finite(q.position?.x), finite(q.position?.y)]);
    const distinct = new Set(points.map((p) => p.join(",")));
    const varies = (axis) => new Set(points.map((p) => p[axis])).size > 1;
    const placed = points.every((p) => p[0] !== null && p[1] !== null);
    if (placed && distinct.size === points.length && varies(0) && varies(1)) return points;
    const circle = qubits.map((_, i) => {
      const angle = (2 * Math.PI * i) / qubits.length - Math.PI / 2;
      return [Math.cos(angle), Math.sin(angle)];
    });
    const edges = links.map((l) => l.ends.map((q) => index.get(q)));
    return qubits.length <= SPRING_MAX_QUBITS ? spring(circle, edges) : circle;
  }

  // Fruchterman-Reingold from the circle, a fixed number of steps: the same picture each time.
  function spring(start, edges) {
    const ideal = 2 / Math.sqrt(start.length);
    const at = start.map((p) => [...p]);
    let heat = 0.2;
    for (let step = 0; step < 300; step++, heat *= 0.985) {
      const move = at.map(() => [0, 0]);
      const push = (i, j, force) => {
        const dx = at[i][0] - at[j][0];
        const dy = at[i][1] - at[j][1];
        const d = Math.max(Math.hypot(dx, dy), 1e-6);
        const f = force(d) / d;
        move[i][0] += dx * f; move[i][1] += dy * f;
        move[j][0] -= dx * f; move[j][1] -= dy * f;
      };
      for (let i = 0; i < at.length; i++) {
        for (let j = i + 1; j < at.length; j++) push(i, j, (d) => (ideal * ideal) / d);
      }
      for (const [a, b] of edges) push(a, b, (d) => -(d * d) / ideal);
      at.forEach((p, i) => {
        const length = Math.hypot(...move[i]);
        if (length > 0) {
          p[0] += (move[i][0] * Math.min(length, heat)) / length;
          p[1] += (move[i][1] * Math.min(length, heat)) / length;
        }
      });
    }
    return at;
  }

  function fitted(points, width, margin) {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    const span = Math.max(Math.max(...xs) - x0, Math.max(...ys) - y0, 1e-9);
    const scale = (width - 2 * margin) / span;
    const height = (Math.max(...ys) - y0) * scale + 2 * margin;
    const at = points.map(([x, y]) => [margin + (x - x0) * scale, margin + (y - y0) * scale]);
    return { height, at };
  }

  function couplingLinks(couplings, index) {
    const links = new Map(); // both directions of a pair are one line, coloured by the worse
    for (const c of couplings) {
      if (!index.has(c.control) || !index.has(c.target) || c.control === c.target) continue;
      const key = [c.control, c.target].sort((a, b) => a - b).join("-");
      const entry = links.get(key) || { ends: [c.control, c.target], error: null, notes: [] };
      const error = gateError(c);
      if (error !== null) entry.error = Math.max(entry.error ?? 0, error);
      const shownError = error === null ? "not calibrated" : error.toFixed(4);
      entry.notes.push(`${c.control}→${c.target}: ${shownError}`);
      links.set(key, entry);
    }
    return [...links.values()];
  }

  function lineOf(l, at, index, scale) {
    const [a, b] = l.ends.map((q) => at[index.get(q)]);
    const stroke = l.error === null ? "#bbb" : colour(GATE_COLOURS, l.error / scale.gate);
    const line = { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke, "stroke-width": 5 };
    return svgEl("line", line, svgEl("title", {}, `two-qubit gate error ${l.notes.join(", ")}`));
  }

  function qubitOf(qubit, [x, y], scale) {
    const error = readoutError(qubit);
    const fraction = error === null ? null : error / scale.readout;
    const fill = fraction === null ? "#eee" : colour(READOUT_COLOURS, fraction);
    const ink = fraction !== null && fraction > 0.6 ? "#fff" : "#000"; // readable on dark
    const shownError = error === null ? "not calibrated" : error.toFixed(4);
    const note = `qubit ${qubit.id}: readout error ${shownError}`;
    const label = { x, y, fill: ink, "text-anchor": "middle", "dominant-baseline": "central" };
    const circle = { cx: x, cy: y, r: 13, fill, stroke: "#222" };
    return [svgEl("circle", circle, svgEl("title", {}, note)),
      svgEl("text", label, String(qubit.id))];
  }

  // The coupling map as SVG: one line per coupled pair, one circle per qubit.
  function couplingMap(qubits, couplings, scale) {
    const index = new Map(qubits.map((q, i) => [q.id, i]));
    const links = couplingLinks(couplings, index);
    const width = 640;
    const { height, at } = fitted(layout(qubits, links, index), width, 28);
    const box = { class: "coupling-map", viewBox: `0 0 ${width} ${height}`, role: "img" };
    const map = svgEl("svg", box, svgEl("title", {}, "coupling map"));
    for (const l of links) map.append(lineOf(l, at, index, scale));
    qubits.forEach((q, i) => map.append(...qubitOf(q, at[i], scale)));
    return map;
  }

  function legend(title, stops, worst) {
    const swatches = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const swatch = el("span", { className: "swatch" });
      swatch.style.background = colour(stops, f);
      return el("span", { className: "stop" }, swatch, (f * worst).toFixed(4));
    });
    return el("p", { className: "legend" }, `${title}: `, ...swatches);
  }

  function worst(values) {
    return values.reduce((most, v) => (v !== null && v > most ? v : most), 0) || 1;
  }

  function calibrationSection(info) {
    const heading = el("h3", {}, "Coupling map and errors");
    const section = el("section", { id: "device-calibration" }, heading);
    if (!info || !Array.isArray(info.qubits) || info.qubits.length === 0) {
      const none = el("p", { className: "empty" }, "No calibration data (a simulator).");
      return append(section, [none]);
    }
    const qubits = info.qubits.filter((q) => q && Number.isInteger(q.id));
    const couplings = (Array.isArray(info.couplings) ? info.couplings : []).filter(Boolean);
    // One scale for the map and its legend: 0 up to the device's worst value.
    const scale = {
      gate: worst(couplings.map(gateError)), readout: worst(qubits.map(readoutError)),
    };
    const qubitRows = qubits.map((q) => [q.id, readoutError(q)?.toFixed(4),
      gateError(q)?.toFixed(4), finite(q.qubit_lifetime?.t1), finite(q.qubit_lifetime?.t2)]);
    const couplingRows = couplings.map((c) => [c.control, c.target, gateError(c)?.toFixed(4)]);
    return append(section, [couplingMap(qubits, couplings, scale),
      legend("two-qubit gate error (lines)", GATE_COLOURS, scale.gate),
      legend("readout error (circles)", READOUT_COLOURS, scale.readout),
      el("h4", {}, "qubits"),
      table("qubits", ["qubit", "readout error", "gate error", "T1 (µs)", "T2 (µs)"], qubitRows),
      el("h4", {}, "couplings"),
      table("couplings", ["control", "target", "gate error"], couplingRows)]);
  }

  async function deviceInfo(value) {
    if (typeof value !== "string" || value === "") return value || null;
    return JSON.parse(value); // inline: the calibration's JSON text
  }

  async function deviceView(id) {
    const device = await api(`devices/${encodeURIComponent(id)}`);
    const calibration = await readable(() => deviceInfo(device.device_info), calibrationSection);
    const summary = definitions([
      ["device", device.device_id], ["type", device.device_type], ["status", device.status],
      ["qubits", device.n_qubits], ["pending jobs", device.n_pending_jobs],
      ["basis gates", (device.basis_gates || []).join(" ")],
      ["instructions", (device.supported_instructions || []).join(" ")],
      ["calibrated", device.calibrated_at], ["description", device.description],
    ]);
    const title = el("h2", { id: "device-title" }, device.device_id);
    return [el("p", {}, link("#/devices", "← devices")), title, summary, calibration];
  }

  // -- the page ------------------------------------------------------------------------

  function notify(text, status) {
    const notice = document.getElementById("notice");
    notice.textContent = shown(text);
    notice.dataset.status = status;
    notice.hidden = false;
  }

  function failure(error) {
    if (error instanceof ApiError && error.status === 401) {
      const advice = "enter this server's API token above";
      notify(`The server answered 401 (${error.message}): ${advice}.`, "401");
      document.getElementById("token-input").focus();
    } else if (error instanceof ApiError) {
      notify(`The server answered ${error.status}: ${error.message}`, String(error.status));
    } else {
      notify(`Could not show this: ${error.message}`, "error");
    }
  }

  function viewOf(hash) {
    const [path, query] = hash.replace(/^#\/?/, "").split("?", 2);
    const [kind, id] = path.split("/", 2).map(decodeURIComponent);
    if (kind === "devices") return id ? deviceView(id) : devicesView();
    return id ? jobView(id) : jobsView(new URLSearchParams(query || ""));
  }

  async function render() {
    const mine = ++generation;
    document.getElementById("token-form").dataset.token = token() ? "set" : "unset";
    const view = document.getElementById("view");
    view.setAttribute("aria-busy", "true");
    try {
      const nodes = await viewOf(location.hash);
      if (mine !== generation) return;
      document.getElementById("notice").hidden = true;
      view.replaceChildren(...nodes.filter(Boolean));
    } catch (error) {
      if (mine !== generation) return;
      view.replaceChildren();
      failure(error);
    } finally {
      if (mine === generation) {
        view.dataset.shown = location.hash; // what the view now shows (tests wait for it)
        view.setAttribute("aria-busy", "false");
      }
    }
  }

  function tokenForm() {
    const form = document.getElementById("token-form");
    const input = document.getElementById("token-input");
    form.addEventListener("submit", (event) => {
      event.preventDefault(); // the token goes nowhere but sessionStorage and the header
      if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value);
      input.value = "";
      render();
    });
    document.getElementById("token-forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      render();
    });
  }

  async function start() {
    tokenForm();
    try {
      const words = await fetch("_dashboard/contract.json", { cache: "no-store" });
      contract = await words.json();
    } catch (error) {
      notify(`Could not load the dashboard: ${error.message}`, "error");
      return;
    }
    window.addEventListener("hashchange", render);
    render();
  }

  start();
})();
