//! `--html FILE`: one self-contained HTML report (inline CSS, JavaScript and
//! SVG; nothing fetched from the network) to attach to a ticket.
//!
//! - a summary (verdict counts, the capture's span and packets);
//! - a timeline with one bar per connection, coloured by verdict, failed
//!   ones on top, zoomable (buttons, mouse wheel, drag);
//! - the failed connections in a table that sorts by any column and filters
//!   by verdict and target; clicking a row opens its ladder diagram (SVG);
//! - the failed DNS queries.
//!
//! The data rides in a `<script type="application/json">` block, escaped so
//! that nothing from a packet can close it; every string reaches the page
//! through `textContent`, never as markup. Bars are compact (`[start, length,
//! verdict]`), so 100 k connections stay a few MB.

use super::{ConnectionReport, DnsReport, Report};
use crate::verdict::VerdictKind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Serialize)]
struct Failed<'a> {
    id: u64,
    client: String,
    server: String,
    target: Option<&'a str>,
    verdict: &'static str,
    stage: Option<&'static str>,
    reset_by: Option<&'static str>,
    start_s: f64,
    duration_ms: f64,
    explanation: Option<&'a str>,
    warnings: &'a [String],
    evidence: Vec<(u64, f64, &'a str, &'a str)>,
    ladder: bool,
}

#[derive(Serialize)]
struct Dns<'a> {
    frame: u64,
    start_s: f64,
    name: &'a str,
    qtype: &'a str,
    outcome: &'static str,
    client: String,
    server: String,
    tries: u32,
    explanation: Option<&'a str>,
}

#[derive(Serialize)]
struct Data<'a> {
    file: &'a str,
    format: &'a str,
    first: Option<&'a str>,
    last: Option<&'a str>,
    span_ms: f64,
    packets: u64,
    connections: u64,
    /// Connection counts per verdict, in `VerdictKind::ALL` order.
    verdicts: Vec<(&'static str, u64)>,
    dns_queries: u64,
    dns_failures: u64,
    max_ladders: usize,
    warnings: &'a [String],
    /// Per connection: start (ms since the capture's first packet),
    /// duration (ms), index into `verdicts`, id.
    bars: Vec<(f64, f64, u8, u64)>,
    failed: Vec<Failed<'a>>,
    dns: Vec<Dns<'a>>,
}

fn verdict_index(v: VerdictKind) -> u8 {
    VerdictKind::ALL.iter().position(|k| *k == v).unwrap_or(0) as u8
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn failed_row<'a>(c: &'a ConnectionReport, has_ladder: bool) -> Failed<'a> {
    Failed {
        id: c.id,
        client: crate::decimal::endpoint(c.client()),
        server: crate::decimal::endpoint(c.server()),
        target: c.target.as_deref(),
        verdict: c.verdict.as_str(),
        stage: c.stage.map(|s| s.as_str()),
        reset_by: c.reset_by.map(|r| match r {
            crate::verdict::ResetBy::Client => "client",
            crate::verdict::ResetBy::Server => "server",
            crate::verdict::ResetBy::Middlebox => "middlebox",
        }),
        start_s: round3(c.start_offset_s.secs_f64()),
        duration_ms: round3(c.timings.duration_ms.ms_f64()),
        explanation: c
            .explanation
            .as_deref()
            .or(c.warnings.first().map(|s| s.as_str())),
        warnings: &c.warnings,
        evidence: c
            .evidence
            .iter()
            .map(|e| {
                (
                    e.frame,
                    round3(e.t_ms.ms_f64()),
                    e.from.as_str(),
                    e.what.as_str(),
                )
            })
            .collect(),
        ladder: has_ladder,
    }
}

/// JSON that is safe inside a `<script>` element: `<`, `>` and `&` are
/// written as `\u003c`, `\u003e`, `\u0026` (only strings can hold them), so
/// `</script>` cannot appear; control characters are escaped as in the
/// JSON output.
fn script_json<T: Serialize>(value: &T) -> io::Result<String> {
    let mut buf = Vec::new();
    super::json::to_writer_line(&mut buf, value)?;
    let s = String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("&#x{:x};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Ladder diagrams embedded at most (about 6 KB each); the other rows say
/// how to draw theirs with `tcptriage show`.
pub const MAX_HTML_LADDERS: usize = 1000;

/// Writes the report. `ladders` holds an SVG ladder diagram per failed
/// connection id (as produced by the ladder module); connections without
/// one simply have no diagram.
pub fn write_html(
    out: &mut dyn Write,
    report: &Report,
    ladders: &BTreeMap<u64, String>,
) -> io::Result<()> {
    let cap = &report.capture;
    let s = &report.summary;
    let mut bars: Vec<(f64, f64, u8, u64)> = report
        .connections
        .iter()
        .map(|c| {
            (
                round3(c.start_offset_s.secs_f64() * 1000.0),
                round3(c.timings.duration_ms.ms_f64()),
                verdict_index(c.verdict),
                c.id,
            )
        })
        .collect();
    bars.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.3.cmp(&b.3)));
    let failed: Vec<Failed<'_>> = report
        .connections
        .iter()
        .filter(|c| c.verdict != VerdictKind::Ok || c.auth_required.is_some())
        .map(|c| failed_row(c, ladders.contains_key(&c.id)))
        .collect();
    let dns: Vec<Dns<'_>> = report
        .dns
        .iter()
        .filter(|d| d.is_failure())
        .map(|d: &DnsReport| Dns {
            frame: d.first_frame,
            start_s: round3(d.start_offset_s.secs_f64()),
            name: &d.name,
            qtype: &d.qtype,
            outcome: d.outcome.as_str(),
            client: crate::decimal::endpoint(d.client),
            server: crate::decimal::endpoint(d.server),
            tries: d.retransmissions + 1,
            explanation: d.explanation.as_deref(),
        })
        .collect();
    let data = Data {
        file: &cap.file,
        format: &cap.format,
        first: cap.first_packet_time.as_deref(),
        last: cap.last_packet_time.as_deref(),
        span_ms: round3(cap.span_ms.ms_f64()),
        packets: s.packets,
        connections: s.connections,
        verdicts: VerdictKind::ALL
            .iter()
            .map(|k| (k.as_str(), s.verdicts.get(k.as_str()).copied().unwrap_or(0)))
            .collect(),
        dns_queries: s.dns_queries,
        dns_failures: s.dns_failures,
        max_ladders: MAX_HTML_LADDERS,
        warnings: &cap.warnings,
        bars,
        failed,
        dns,
    };
    let title = format!("tcptriage — {}", escape(&cap.file));
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{BODY}\n"
    )?;
    // The ladders, one hidden block per failed connection.
    writeln!(out, "<div id=\"ladders\" hidden>")?;
    for (id, svg) in ladders {
        writeln!(
            out,
            "<div class=\"ladder\" id=\"ladder-{id}\" data-conn=\"{id}\">{svg}</div>"
        )?;
    }
    writeln!(out, "</div>")?;
    writeln!(
        out,
        "<script type=\"application/json\" id=\"data\">{}</script>",
        script_json(&data)?
    )?;
    writeln!(out, "<script>{JS}</script>\n</body>\n</html>")?;
    out.flush()
}

const CSS: &str = r##"
:root { --ok:#4caf50; --firewall_drop:#e53935; --service_down:#8e24aa; --app_stall:#fb8c00;
        --midstream_reset:#1e88e5; --incomplete:#9e9e9e; --dns_failure:#6d4c41; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.meta { color: #555; } .warn { color: #a15c00; }
.cards { display: flex; flex-wrap: wrap; gap: .5em; margin: .8em 0; }
.card { border-radius: 6px; padding: .4em .8em; color: #fff; min-width: 7em; }
.card b { display: block; font-size: 1.4em; }
#timeline-box { border: 1px solid #ccc; border-radius: 4px; overflow: hidden; }
#timeline { display: block; width: 100%; height: 260px; background: #fafafa; cursor: grab; }
.tools button { margin-right: .3em; }
table { border-collapse: collapse; width: 100%; margin-top: .4em; }
th, td { border-bottom: 1px solid #e0e0e0; padding: .25em .5em; text-align: left; vertical-align: top; }
th { cursor: pointer; background: #f3f3f3; user-select: none; white-space: nowrap; }
tr.conn { cursor: pointer; } tr.conn:hover { background: #f5f9ff; }
td.v span { color: #fff; border-radius: 3px; padding: 0 .35em; white-space: nowrap; }
tr.detail td { background: #fcfcfc; }
.ev { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
.ladder svg { max-width: 100%; height: auto; border: 1px solid #ddd; background: #fff; }
.filters { margin: .4em 0; } .filters label { margin-right: .8em; }
.legend span { display: inline-block; width: .8em; height: .8em; margin: 0 .2em 0 .8em; border-radius: 2px; }
"##;

const BODY: &str = r##"<h1>tcptriage report</h1>
<div class="meta" id="meta"></div>
<div id="warnings"></div>
<div class="cards" id="cards"></div>
<h2>Timeline</h2>
<div class="tools"><button id="zin">zoom in</button><button id="zout">zoom out</button><button id="zreset">reset</button>
<span class="meta">one bar per connection, failed ones on top; wheel to zoom, drag to pan</span></div>
<div class="legend" id="legend"></div>
<div id="timeline-box"><svg id="timeline" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="none"></svg></div>
<h2>Failed connections</h2>
<div class="filters"><label>verdict <select id="fverdict"><option value="">all</option></select></label>
<label>target <input id="ftarget" placeholder="name, module, address"></label>
<span class="meta" id="fcount"></span></div>
<table id="failed"><thead><tr><th data-k="id">id</th><th data-k="client">client → server</th><th data-k="target">target</th>
<th data-k="verdict">verdict</th><th data-k="stage">stage</th><th data-k="start_s">start (s)</th><th data-k="duration_ms">duration (ms)</th>
<th data-k="explanation">explanation</th></tr></thead><tbody></tbody></table>
<div id="dns-section"><h2>Failed DNS queries</h2>
<table id="dns"><thead><tr><th>frame</th><th>start (s)</th><th>client → server</th><th>name</th><th>type</th><th>outcome</th><th>tries</th><th>explanation</th></tr></thead><tbody></tbody></table></div>
<div id="status" data-ready="0" data-errors="0"></div>"##;

const JS: &str = r##"
"use strict";
(function () {
  const status = document.getElementById("status");
  let errors = 0;
  window.addEventListener("error", function () { errors++; status.dataset.errors = String(errors); });
  const D = JSON.parse(document.getElementById("data").textContent);
  const names = D.verdicts.map(v => v[0]);
  const color = n => getComputedStyle(document.documentElement).getPropertyValue("--" + n).trim() || "#777";
  const el = (tag, props, text) => { const e = document.createElement(tag); Object.assign(e, props || {}); if (text !== undefined && text !== null) e.textContent = String(text); return e; };
  // Summary.
  document.getElementById("meta").textContent =
    D.file + " — " + D.format + " — " + (D.first || "?") + " → " + (D.last || "?") +
    " (" + (D.span_ms / 1000).toFixed(3) + " s), " + D.packets + " packets, " + D.connections + " connections, " +
    D.dns_queries + " DNS queries";
  const w = document.getElementById("warnings");
  D.warnings.forEach(t => w.appendChild(el("div", { className: "warn" }, "warning: " + t)));
  const cards = document.getElementById("cards");
  D.verdicts.forEach(([n, c]) => { const d = el("div", { className: "card" }); d.style.background = color(n);
    d.appendChild(el("b", {}, c)); d.appendChild(document.createTextNode(n)); cards.appendChild(d); });
  if (D.dns_queries > 0) { const d = el("div", { className: "card" }); d.style.background = color("dns_failure");
    d.appendChild(el("b", {}, D.dns_failures)); d.appendChild(document.createTextNode("dns_failure")); cards.appendChild(d); }
  const legend = document.getElementById("legend");
  names.forEach(n => { const s = el("span"); s.style.background = color(n); legend.appendChild(s); legend.appendChild(document.createTextNode(n)); });

  // Timeline: lanes packed greedily, failed connections first (on top).
  const svg = document.getElementById("timeline");
  const NS = "http://www.w3.org/2000/svg";
  const span = Math.max(D.span_ms, 1);
  const order = D.bars.map((b, i) => i).sort((a, b) => (D.bars[a][2] === 0) - (D.bars[b][2] === 0) || D.bars[a][0] - D.bars[b][0]);
  // Lanes by earliest end: a binary min-heap of [end, lane] per phase, so
  // the layout is O(n log n); past MAX_LANES a bar shares the lane that
  // frees first (the timeline stays a bounded height).
  const MAX_LANES = 1500;
  const laneOf = new Array(D.bars.length);
  let lanes = 0;
  let heap = [];
  const up = k => { while (k > 0) { const p = (k - 1) >> 1; if (heap[p][0] <= heap[k][0]) break; [heap[p], heap[k]] = [heap[k], heap[p]]; k = p; } };
  const down = k => { for (;;) { const l = 2 * k + 1, r = l + 1; let m = k;
    if (l < heap.length && heap[l][0] < heap[m][0]) m = l; if (r < heap.length && heap[r][0] < heap[m][0]) m = r;
    if (m === k) break; [heap[m], heap[k]] = [heap[k], heap[m]]; k = m; } };
  let phase = null;
  const gap = span / 2000;
  for (const i of order) {
    const [s, d, v] = D.bars[i];
    const isOk = v === 0;
    if (phase !== isOk) { phase = isOk; heap = []; }
    const end = s + Math.max(d, span / 1000);
    let lane;
    if (heap.length > 0 && (heap[0][0] <= s - gap || lanes >= MAX_LANES)) {
      lane = heap[0][1]; heap[0] = [end, lane]; down(0);
    } else {
      lane = lanes++; heap.push([end, lane]); up(heap.length - 1);
    }
    laneOf[i] = lane;
  }
  const H = 4, rowsH = Math.max(lanes * H, 1);
  svg.setAttribute("viewBox", "0 0 " + span + " " + rowsH);
  svg.style.height = Math.min(Math.max(rowsH, 60), 600) + "px";
  const frag = document.createDocumentFragment();
  D.bars.forEach(([s, d, v, id], i) => {
    const r = document.createElementNS(NS, "rect");
    r.setAttribute("class", "bar " + names[v]);
    r.setAttribute("x", s); r.setAttribute("y", laneOf[i] * H);
    r.setAttribute("width", Math.max(d, span / 1500)); r.setAttribute("height", H - 1);
    r.setAttribute("fill", color(names[v])); r.dataset.conn = id;
    const t = document.createElementNS(NS, "title"); t.textContent = "#" + id + " " + names[v] + " at " + (s / 1000).toFixed(3) + " s, " + d.toFixed(1) + " ms";
    r.appendChild(t); frag.appendChild(r);
  });
  svg.appendChild(frag);
  let view = [0, span];
  const setView = (a, b) => { const len = Math.max(b - a, span / 1e6); a = Math.max(0, Math.min(a, span - len)); view = [a, a + len];
    svg.setAttribute("viewBox", view[0] + " 0 " + (view[1] - view[0]) + " " + rowsH); };
  const zoom = (f, at) => { const c = at === undefined ? (view[0] + view[1]) / 2 : at; const len = Math.min((view[1] - view[0]) * f, span);
    setView(c - (c - view[0]) * f, c - (c - view[0]) * f + len); };
  document.getElementById("zin").onclick = () => zoom(0.5);
  document.getElementById("zout").onclick = () => zoom(2);
  document.getElementById("zreset").onclick = () => setView(0, span);
  svg.addEventListener("wheel", e => { e.preventDefault(); const r = svg.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 0.8 : 1.25, view[0] + (e.clientX - r.left) / r.width * (view[1] - view[0])); }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", e => { drag = [e.clientX, view[0]]; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", e => { if (!drag) return; const r = svg.getBoundingClientRect();
    const dx = (e.clientX - drag[0]) / r.width * (view[1] - view[0]); setView(drag[1] - dx, drag[1] - dx + (view[1] - view[0])); });
  svg.addEventListener("click", e => { const id = e.target && e.target.dataset ? e.target.dataset.conn : undefined;
    if (id !== undefined) openRow(Number(id)); });

  // Failed connections table.
  const tbody = document.querySelector("#failed tbody");
  const fv = document.getElementById("fverdict"), ft = document.getElementById("ftarget");
  [...new Set(D.failed.map(f => f.verdict))].forEach(v => fv.appendChild(el("option", { value: v }, v)));
  let sortKey = "id", sortDir = 1;
  const open = new Set();
  function detail(f) {
    const tr = el("tr", { className: "detail" }); const td = el("td", { colSpan: 8 });
    if (f.explanation) td.appendChild(el("div", {}, f.explanation));
    const ev = f.evidence.map(e => "frame " + String(e[0]).padStart(6) + "  +" + e[1].toFixed(3).padStart(11) + " ms  " + e[2].padEnd(8) + e[3]).join("\n");
    td.appendChild(el("div", { className: "ev" }, ev));
    f.warnings.forEach(t => td.appendChild(el("div", { className: "warn" }, "warning: " + t)));
    const src = document.getElementById("ladder-" + f.id);
    if (src) { const c = src.cloneNode(true); c.removeAttribute("id"); td.appendChild(c); }
    else td.appendChild(el("div", { className: "meta" }, D.file === "-"
      ? "no ladder: the capture came from standard input, which cannot be read twice"
      : "no ladder embedded (only the first " + D.max_ladders + " are); draw it with: tcptriage show " + D.file + " --conn " + f.id));
    tr.appendChild(td); return tr;
  }
  function render() {
    const q = ft.value.trim().toLowerCase(), v = fv.value;
    const rows = D.failed.filter(f => (!v || f.verdict === v) &&
      (!q || [f.target, f.client, f.server, f.explanation].some(x => x && String(x).toLowerCase().includes(q))));
    rows.sort((a, b) => { const x = a[sortKey], y = b[sortKey];
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x ?? "").localeCompare(String(y ?? ""))) * sortDir; });
    tbody.replaceChildren();
    rows.forEach(f => {
      const tr = el("tr", { className: "conn" }); tr.dataset.conn = f.id;
      tr.appendChild(el("td", {}, f.id)); tr.appendChild(el("td", {}, f.client + " → " + f.server));
      tr.appendChild(el("td", {}, f.target || "-"));
      const tdv = el("td", { className: "v" }); const sp = el("span", {}, f.verdict); sp.style.background = color(f.verdict); tdv.appendChild(sp); tr.appendChild(tdv);
      tr.appendChild(el("td", {}, f.stage || "-")); tr.appendChild(el("td", {}, f.start_s.toFixed(3)));
      tr.appendChild(el("td", {}, f.duration_ms.toFixed(1))); tr.appendChild(el("td", {}, f.explanation || ""));
      tr.onclick = () => { if (open.has(f.id)) open.delete(f.id); else open.add(f.id); render(); };
      tbody.appendChild(tr);
      if (open.has(f.id)) tbody.appendChild(detail(f));
    });
    document.getElementById("fcount").textContent = rows.length + " of " + D.failed.length;
  }
  function openRow(id) { if (!D.failed.some(f => f.id === id)) return; open.add(id); fv.value = ""; ft.value = ""; render();
    const tr = tbody.querySelector('tr[data-conn="' + id + '"]'); if (tr && tr.scrollIntoView) tr.scrollIntoView({ block: "center" }); }
  document.querySelectorAll("#failed th").forEach(th => th.onclick = () => {
    const k = th.dataset.k; if (sortKey === k) sortDir = -sortDir; else { sortKey = k; sortDir = 1; } render(); });
  fv.onchange = render; ft.oninput = render;
  render();
  // report.html#conn-3 opens connection 3 (links in tickets).
  const m = /^#conn-(\d+)$/.exec(location.hash);
  if (m) openRow(Number(m[1]));

  // DNS failures.
  const dbody = document.querySelector("#dns tbody");
  if (D.dns.length === 0) document.getElementById("dns-section").hidden = true;
  D.dns.forEach(d => { const tr = el("tr", { className: "dnsrow" });
    [d.frame, d.start_s.toFixed(3), d.client + " → " + d.server, d.name, d.qtype, d.outcome, d.tries, d.explanation || ""]
      .forEach(x => tr.appendChild(el("td", {}, x))); dbody.appendChild(tr); });
  status.dataset.bars = String(svg.querySelectorAll("rect.bar").length);
  status.dataset.rows = String(tbody.querySelectorAll("tr.conn").length);
  status.dataset.ladders = String(document.querySelectorAll("#ladders .ladder svg").length);
  status.dataset.ready = "1";
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_a_packet_can_close_the_script_or_inject_markup() {
        let evil = "</script><script>alert(1)</script>&\u{1b}[2J\u{202e}";
        let j = script_json(&evil).unwrap();
        assert!(!j.contains('<') && !j.contains('>') && !j.contains('&'));
        let back: String = serde_json::from_str(&j).unwrap();
        assert_eq!(back, evil);
        let e = escape(evil);
        assert!(!e.contains('<') && !e.contains('\u{1b}'));
        assert!(e.starts_with("&lt;/script&gt;"));
    }
}
