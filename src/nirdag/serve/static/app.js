// nirdag serve: the little script of the pages (no library, no network but this server).
"use strict";

function cellText(value) {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number" && !Number.isInteger(value)) {
    return Math.abs(value) >= 0.01 ? value.toFixed(4) : value.toExponential(3);  // Q residuals are small
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function fillTable(table, rows, flagColumn) {
  table.replaceChildren();
  if (!rows.length) {
    table.insertRow().insertCell().textContent = "no rows";
    return;
  }
  const columns = Object.keys(rows[0]);
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    if (flagColumn && row[flagColumn] && row[flagColumn] !== "regular") tr.className = "flag-" + row[flagColumn];
    for (const c of columns) tr.insertCell().textContent = cellText(row[c]);
  }
}

async function reasonOf(response) {
  try {
    return (await response.json()).detail || response.statusText;
  } catch (e) {
    return response.status + " " + response.statusText;
  }
}

function show(id, text) {
  const el = document.getElementById(id);
  el.textContent = text || "";
  el.hidden = !text;
}

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// A figure the run holds no data for: its image answers 404 with the reason, shown in its place.
function explainMissing(img) {
  fetch(img.src).then(async (r) => {
    const note = document.createElement("p");
    note.className = "missing";
    note.textContent = r.ok ? "not drawn" : await reasonOf(r);
    img.replaceWith(note);
  });
}

function setupFigures() {
  for (const img of document.querySelectorAll("img.figure")) {
    if (img.complete && img.naturalWidth === 0) explainMissing(img);
    else img.addEventListener("error", () => explainMissing(img));
  }
}

function setupSql() {
  const form = document.getElementById("sql-form");
  if (!form) return;
  const query = (accept) => fetch("/sql", {
    method: "POST", headers: {"Content-Type": "application/json", "Accept": accept},
    body: JSON.stringify({sql: document.getElementById("sql").value}),
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show("sql-error", "");
    document.getElementById("sql-status").textContent = "running...";
    const started = performance.now();
    const r = await query("application/json");
    if (!r.ok) {
      show("sql-error", await reasonOf(r));
      document.getElementById("sql-status").textContent = "";
      return;
    }
    const rows = await r.json();
    fillTable(document.getElementById("sql-result"), rows);
    document.getElementById("sql-status").textContent =
      rows.length + " rows in " + Math.round(performance.now() - started) + " ms";
  });
  document.getElementById("sql-csv").addEventListener("click", async () => {
    const r = await query("text/csv");
    if (r.ok) download(await r.blob(), "query.csv");
    else show("sql-error", await reasonOf(r));
  });
}

function setupPredict() {
  const form = document.getElementById("predict-form");
  if (!form) return;
  let last = null;
  const send = (accept) => fetch("/predict/" + encodeURIComponent(last.bundle), {
    method: "POST", headers: {"Content-Type": "text/csv", "Accept": accept}, body: last.text,
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show("predict-error", "");
    const file = document.getElementById("spectra-file").files[0];
    if (!file) {
      show("predict-error", "choose a CSV file of spectra first");
      return;
    }
    last = {bundle: document.getElementById("bundle").value, text: await file.text()};
    document.getElementById("predict-status").textContent = "predicting...";
    const r = await send("application/json");
    if (!r.ok) {
      show("predict-error", await reasonOf(r));
      document.getElementById("predict-status").textContent = "";
      document.getElementById("predict-csv").disabled = true;
      return;
    }
    const answer = await r.json();
    fillTable(document.getElementById("predict-result"), answer.predictions, "domain");
    const flagged = answer.predictions.filter((p) => p.domain && p.domain !== "regular").length;
    document.getElementById("predict-status").textContent = answer.predictions.length + " predictions" +
      (answer.domain_absent ? "; domain not judged: " + answer.domain_absent : "; " + flagged + " rows outside the regular domain");
    document.getElementById("predict-csv").disabled = false;
  });
  document.getElementById("predict-csv").addEventListener("click", async () => {
    const r = await send("text/csv");
    if (r.ok) download(await r.blob(), "predictions-" + last.bundle + ".csv");
    else show("predict-error", await reasonOf(r));
  });
}

function setupLogin() {
  const form = document.getElementById("login-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await fetch("/login", {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify({token: document.getElementById("token").value})});
    if (r.ok) window.location.assign("/");
    else show("login-error", await reasonOf(r));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupFigures();
  setupSql();
  setupPredict();
  setupLogin();
});
