// UploadsTable front end (anywidget ESM; plain JS, no build step, no imports).
//
// Rows live in one columnar store per view (plain arrays, 100k rows are cheap); sorting,
// filtering and paging happen here, so a keystroke never waits for the kernel. Python stays
// the owner of the data and of `selection`: rows arrive as custom messages ("rows", "sizes",
// "parts"), and a selection change goes back as row positions ("select"), never as 100k ids.

const PAGE_DEFAULT = 100;
const COLUMNS = [ // [store field, header, numeric]
  ["bucket", "bucket", false], ["key", "key", false], ["initiated", "initiated", true],
  ["age", "age", true], ["parts", "parts", true], ["bytes", "size", true],
  ["storage_class", "storage class", false], ["upload_id", "upload id", false],
];
const FIELDS = ["bucket", "key", "upload_id", "initiated", "age", "storage_class", "parts",
  "bytes"];
const UNITS = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800 };

function newStore() {
  const store = { n: 0, synced: false, generation: 0, index: new Map(), selected: new Set(),
    partsOf: new Map(), sent: 0, pending: false, changed: () => {},
    view: Math.random().toString(36).slice(2) };
  for (const f of FIELDS) store[f] = [];
  return store;
}

function emit(store, what) {
  store.changed(what); // "data", "sizes", "parts" or "selection": the view redraws
}

// ---------------------------------------------------------------- formatting
// As Python's (widgets/html_table.py): both are checked on tests/widgets/format_cases.json.
function sizeText(n) {
  if (n === null || n === undefined) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  // as Python's format_size: "3 KiB", "1.5 MiB" (whole numbers without decimals)
  return `${unit === 0 || Number.isInteger(value) ? value : oneDecimal(value)} ${units[unit]}`;
}

// Python's "{:.1f}": a tie (1.25, exact in binary) rounds to even ("1.2"); toFixed rounds up
function oneDecimal(value) {
  const tenths = value * 10;
  const tie = tenths % 1 === 0.5;
  return (tie ? (Math.floor(tenths) % 2 === 0 ? Math.floor(tenths) : Math.ceil(tenths)) / 10
    : value).toFixed(1);
}

function ageText(seconds) {
  if (seconds === null || seconds === undefined) return "?";
  let left = Math.max(0, Math.floor(seconds));
  const out = [];
  for (const [name, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]]) {
    if (left >= size) { out.push(`${Math.floor(left / size)}${name}`); left %= size; }
  }
  return out.slice(0, 2).join(" ") || "0s";
}

function timeText(ms) {
  if (ms === null || ms === undefined) return "?";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// ">7d", "<2h", ">=30min", "7d" (at least 7 days); null: no filter; undefined: not valid.
function parseAge(text) {
  const m = /^\s*(>=|<=|>|<)?\s*(\d+(?:\.\d+)?)\s*(min|sec|s|m|h|d|w)?\s*$/i.exec(text);
  if (!text.trim()) return null;
  if (!m) return undefined;
  const limit = parseFloat(m[2]) * UNITS[(m[3] || "s").toLowerCase()];
  const op = m[1] || ">=";
  return (age) => age !== null && (op === ">" ? age > limit : op === "<" ? age < limit
    : op === ">=" ? age >= limit : age <= limit);
}

// ---------------------------------------------------------------- messages from Python
function decode(columns, field) {
  const col = columns[field];
  if (col && col.codes) return col.codes.map((c) => (c < 0 ? null : col.values[c]));
  return col || [];
}

function addRows(store, columns) {
  const count = columns.upload_id.length;
  for (const f of FIELDS) {
    const values = decode(columns, f);
    const target = store[f];
    for (let i = 0; i < count; i++) target.push(values[i] === undefined ? null : values[i]);
  }
  for (let i = 0; i < count; i++) store.index.set(store.upload_id[store.n + i], store.n + i);
  store.n += count;
}

function onMessage(model, store, msg) {
  if (msg.type === "rows") {
    if (msg.reset && msg.chunk === 0) {
      const fresh = newStore();
      for (const f of [...FIELDS, "index", "n", "partsOf"]) store[f] = fresh[f];
      store.synced = true;
      store.generation = msg.generation;
      store.selected = new Set();
    }
    if (!store.synced) return; // a snapshot follows our "ready"
    addRows(store, msg.columns);
    if (msg.chunk === msg.chunks - 1) {
      if (!store.pending) selectionFromModel(model, store);
      emit(store, "data");
    }
  } else if (msg.type === "sizes" && store.synced) {
    msg.upload_id.forEach((id, i) => {
      const at = store.index.get(id);
      if (at === undefined) return;
      if (msg.bytes) store.bytes[at] = msg.bytes[i];
      if (msg.parts) store.parts[at] = msg.parts[i];
    });
    emit(store, "sizes");
  } else if (msg.type === "parts") {
    store.partsOf.set(msg.upload_id, { columns: msg.columns, error: msg.error });
    emit(store, "parts");
  } else if (msg.type === "ack" && msg.view === store.view && msg.n === store.sent) {
    store.pending = false;
    selectionFromModel(model, store);
    emit(store, "selection");
  }
}

function selectionFromModel(model, store) {
  store.selected = new Set();
  for (const id of model.get("selection") || []) {
    const at = store.index.get(id);
    if (at !== undefined) store.selected.add(at);
  }
}

function sendSelection(model, store) {
  store.sent += 1;
  store.pending = true;
  const rows = Array.from(store.selected).sort((a, b) => a - b);
  model.send({ type: "select", generation: store.generation, rows, n: store.sent,
    view: store.view });
  emit(store, "selection");
}

// One store per view: anywidget hands each view its own model proxy, so views share nothing
// but the kernel; a new view says "ready" and gets every row (from the kernel, to every view).
function connect(model, store) {
  const onCustom = (msg) => onMessage(model, store, msg);
  const onSelection = () => {
    if (store.pending) return; // our own newer change is on its way
    selectionFromModel(model, store);
    emit(store, "selection");
  };
  model.on("msg:custom", onCustom);
  model.on("change:selection", onSelection);
  model.send({ type: "ready" });
  return () => {
    model.off("msg:custom", onCustom);
    model.off("change:selection", onSelection);
  };
}

// ---------------------------------------------------------------- DOM helpers
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (_) { /* fall back below */ }
  const area = h("textarea", { style: "position:fixed;left:-9999px;top:0" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
  area.remove();
  return ok;
}

// ---------------------------------------------------------------- one view
function render({ model, el }) {
  const store = newStore();
  const view = { sortKey: null, ascending: true, page: 0, anchor: null, expanded: new Set(),
    bucket: "", prefix: "", age: null, order: null, filtered: [],
    generation: store.generation };

  const bucketSelect = h("select", { class: "mpu-ut-bucket", title: "bucket" });
  const prefixInput = h("input", { class: "mpu-ut-prefix", type: "text",
    placeholder: "key prefix, e.g. logs/" });
  const ageInput = h("input", { class: "mpu-ut-age", type: "text",
    placeholder: "age, e.g. >7d or <2h" });
  const summary = h("span", { class: "mpu-ut-summary" });
  const allBox = h("input", { type: "checkbox", class: "mpu-ut-all",
    title: "select all filtered" });
  const headRow = h("tr", {}, h("th", { class: "mpu-ut-check" }, allBox), h("th"));
  for (const [field, label, numeric] of COLUMNS) {
    const right = numeric && field !== "initiated"; // right-aligned like their cells
    headRow.append(h("th", { class: `mpu-ut-sort${right ? " mpu-ut-num" : ""}`,
      "data-field": field, title: `sort by ${label}` }, label));
  }
  const tbody = h("tbody");
  const prev = h("button", { class: "mpu-ut-prev", text: "◀" });
  const next = h("button", { class: "mpu-ut-next", text: "▶" });
  const pageLabel = h("span", { class: "mpu-ut-page" });
  el.classList.add("mpu-uploads-table");
  el.append(
    h("div", { class: "mpu-ut-filters" }, bucketSelect, prefixInput, ageInput, summary),
    h("div", { class: "mpu-ut-scroll" },
      h("table", { class: "mpu-ut-table" }, h("thead", {}, headRow), tbody)),
    h("div", { class: "mpu-ut-pager" }, prev, pageLabel, next));

  function computeOrder() {
    const order = Array.from({ length: store.n }, (_, i) => i);
    if (view.sortKey) {
      const col = store[view.sortKey];
      const sign = view.ascending ? 1 : -1;
      order.sort((a, b) => {
        const x = col[a], y = col[b];
        if (x === y) return 0;
        if (x === null) return 1; // missing values last, either direction
        if (y === null) return -1;
        return (x < y ? -1 : 1) * sign;
      });
    }
    view.order = order;
  }

  function computeFiltered() {
    if (!view.order) computeOrder();
    const { bucket, prefix, age } = view;
    if (!bucket && !prefix && !age) { view.filtered = view.order; return; }
    const b = store.bucket, k = store.key, a = store.age;
    view.filtered = view.order.filter((i) => (!bucket || b[i] === bucket)
      && (!prefix || (k[i] !== null && k[i].startsWith(prefix))) && (!age || age(a[i])));
  }

  function refreshBuckets() {
    const buckets = Array.from(new Set(store.bucket)).filter((x) => x !== null).sort();
    if (!buckets.includes(view.bucket)) view.bucket = "";
    bucketSelect.replaceChildren(h("option", { value: "", text: "(all buckets)" }),
      ...buckets.map((b) => h("option", { value: b, text: b })));
    bucketSelect.value = view.bucket;
  }

  function partsRow(id) {
    const cell = h("td", { colspan: String(COLUMNS.length + 2), class: "mpu-ut-parts" });
    const found = store.partsOf.get(id);
    if (!found) {
      cell.textContent = "listing parts…";
    } else if (found.error) {
      cell.append(h("span", { class: "mpu-ut-error", text: found.error }));
    } else {
      const c = found.columns;
      const rows = c.number.map((num, i) => h("tr", {}, h("td", { text: String(num) }),
        h("td", { class: "mpu-ut-num", text: sizeText(c.size[i]) }),
        h("td", { text: c.etag[i] ?? "" }), h("td", { text: timeText(c.last_modified[i]) })));
      const total = c.size.reduce((s, x) => s + (x || 0), 0);
      cell.append(h("div", { class: "mpu-ut-parts-title",
        text: `${rows.length} part${rows.length === 1 ? "" : "s"}, ${sizeText(total)}` }),
      h("table", { class: "mpu-ut-parts-table" }, h("thead", {}, h("tr", {},
        ...["part", "size", "etag", "last modified"].map((t) => h("th", { text: t })))),
      h("tbody", {}, ...rows)));
    }
    return h("tr", { class: "mpu-ut-parts-row", "data-parts-of": id }, cell);
  }

  function drawRows() {
    const size = Math.max(1, model.get("page_size") || PAGE_DEFAULT);
    const pages = Math.max(1, Math.ceil(view.filtered.length / size));
    view.page = Math.min(view.page, pages - 1);
    const start = view.page * size;
    const slice = view.filtered.slice(start, start + size);
    const out = [];
    const marks = model.get("marks") || {};
    for (const i of slice) {
      const id = store.upload_id[i];
      const open = view.expanded.has(id);
      const box = h("input", { type: "checkbox", class: "mpu-ut-row-check", "data-pos": i });
      box.checked = store.selected.has(i);
      const short = id.length > 14 ? `${id.slice(0, 12)}…` : id;
      const mark = marks[id]; // why an action on this upload failed (kernel's `marks`)
      const keyCell = h("td", { text: store.key[i] ?? "" });
      if (mark) keyCell.append(h("div", { class: "mpu-ut-reason", text: `✗ ${mark}` }));
      out.push(h("tr", { class: `mpu-ut-row${box.checked ? " mpu-ut-selected" : ""}`
        + `${mark ? " mpu-ut-failed" : ""}`, "data-upload-id": id, "data-pos": i },
      h("td", { class: "mpu-ut-check" }, box),
      h("td", {}, h("button", { class: "mpu-ut-expand", "data-pos": i,
        title: open ? "hide parts" : "show parts", text: open ? "▾" : "▸" })),
      h("td", { text: store.bucket[i] ?? "" }), keyCell,
      h("td", { text: timeText(store.initiated[i]) }),
      h("td", { class: "mpu-ut-num", text: ageText(store.age[i]) }),
      h("td", { class: "mpu-ut-num", text: store.parts[i] ?? "?" }),
      h("td", { class: "mpu-ut-num", text: sizeText(store.bytes[i]) }),
      h("td", { text: store.storage_class[i] ?? "" }),
      h("td", { class: "mpu-ut-id", title: `${id} (click to copy)`, "data-pos": i,
        text: short })));
      if (open) out.push(partsRow(id));
    }
    if (!out.length) {
      out.push(h("tr", {}, h("td", { colspan: String(COLUMNS.length + 2), class: "mpu-ut-empty",
        text: store.synced ? "no uploads match" : "loading…" })));
    }
    tbody.replaceChildren(...out);
    pageLabel.textContent = view.filtered.length
      ? `${start + 1}–${start + slice.length} of ${view.filtered.length.toLocaleString()}`
      : "0 of 0";
    prev.disabled = view.page <= 0;
    next.disabled = view.page >= pages - 1;
    drawSummary();
  }

  function drawSummary() {
    let inFilter = 0, bytes = 0;
    for (const i of view.filtered) if (store.selected.has(i)) inFilter += 1;
    for (const i of store.selected) bytes += store.bytes[i] || 0;
    allBox.checked = inFilter > 0 && inFilter === view.filtered.length;
    allBox.indeterminate = inFilter > 0 && inFilter < view.filtered.length;
    summary.textContent = `${store.n.toLocaleString()} upload${store.n === 1 ? "" : "s"} · `
      + `${view.filtered.length.toLocaleString()} shown · `
      + `${store.selected.size.toLocaleString()} selected (${sizeText(bytes)})`;
    for (const th of headRow.querySelectorAll("th[data-field]")) {
      const on = th.dataset.field === view.sortKey;
      th.classList.toggle("mpu-ut-sorted", on);
      th.dataset.dir = on ? (view.ascending ? "asc" : "desc") : "";
    }
  }

  function redraw({ order = false, filter = true } = {}) {
    if (order) view.order = null;
    if (filter || order) computeFiltered();
    drawRows();
  }

  // ---- events
  let pendingFilter = 0;
  function onFilterInput() {
    view.prefix = prefixInput.value;
    const age = parseAge(ageInput.value);
    ageInput.classList.toggle("mpu-ut-invalid", age === undefined);
    view.age = age || null;
    view.bucket = bucketSelect.value;
    view.page = 0;
    cancelAnimationFrame(pendingFilter); // one filter pass per frame, however fast the typing
    pendingFilter = requestAnimationFrame(() => redraw());
  }
  for (const input of [prefixInput, ageInput]) input.addEventListener("input", onFilterInput);
  bucketSelect.addEventListener("change", onFilterInput);

  headRow.addEventListener("click", (event) => {
    const th = event.target.closest("th[data-field]");
    if (!th) return;
    const field = th.dataset.field;
    view.ascending = view.sortKey === field ? !view.ascending : true;
    view.sortKey = field;
    view.page = 0;
    redraw({ order: true });
  });

  allBox.addEventListener("change", () => {
    const on = allBox.checked;
    for (const i of view.filtered) { if (on) store.selected.add(i); else store.selected.delete(i); }
    sendSelection(model, store);
  });

  prev.addEventListener("click", () => { view.page -= 1; drawRows(); });
  next.addEventListener("click", () => { view.page += 1; drawRows(); });

  tbody.addEventListener("click", (event) => {
    const target = event.target;
    if (target.classList.contains("mpu-ut-row-check")) {
      const pos = Number(target.dataset.pos);
      const on = target.checked;
      let range = [pos];
      if (event.shiftKey && view.anchor !== null) {
        const a = view.filtered.indexOf(view.anchor), b = view.filtered.indexOf(pos);
        if (a >= 0 && b >= 0) range = view.filtered.slice(Math.min(a, b), Math.max(a, b) + 1);
      }
      for (const i of range) { if (on) store.selected.add(i); else store.selected.delete(i); }
      view.anchor = pos;
      sendSelection(model, store);
    } else if (target.classList.contains("mpu-ut-expand")) {
      const id = store.upload_id[Number(target.dataset.pos)];
      if (view.expanded.has(id)) {
        view.expanded.delete(id);
      } else {
        view.expanded.add(id);
        if (!store.partsOf.has(id)) model.send({ type: "parts", upload_id: id });
      }
      drawRows();
    } else if (target.classList.contains("mpu-ut-id")) {
      const id = store.upload_id[Number(target.dataset.pos)];
      copyText(id).then((ok) => {
        target.textContent = ok ? "copied ✓" : "copy failed";
        target.classList.add("mpu-ut-copied");
        setTimeout(() => { if (target.isConnected) drawRows(); }, 1200);
      });
    }
  });

  // ---- the store changed (this view or the kernel): one redraw per frame
  let pendingDraw = 0, reorder = false;
  store.changed = (what) => {
    if (what === "data") {
      reorder = true;
      refreshBuckets();
      if (view.generation !== store.generation) view.anchor = null; // positions changed
      view.generation = store.generation;
    }
    if (what === "sizes" && ["bytes", "parts"].includes(view.sortKey)) reorder = true;
    cancelAnimationFrame(pendingDraw);
    pendingDraw = requestAnimationFrame(() => {
      const order = reorder;
      reorder = false;
      redraw({ order, filter: false });
    });
  };
  const onPageSize = () => redraw({ filter: false });
  model.on("change:page_size", onPageSize);
  model.on("change:marks", drawRows);

  refreshBuckets();
  redraw({ order: true });
  const disconnect = connect(model, store);
  return () => {
    disconnect();
    model.off("change:page_size", onPageSize);
    model.off("change:marks", drawRows);
  };
}

export default { render };
// for tests/widgets/format_cases.mjs (node), which checks them against Python's on one table
export { sizeText, ageText, parseAge };
