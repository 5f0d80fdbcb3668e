"""reports: renderings of the one report model (gcr_model.build): the
self-contained HTML page (inline CSS and SVG plots, no script, no external
resource), one Markdown report per incident, and JUnit XML. Renderers only
format; every decision (verdicts, pass/fail, regressions) is in the model.
"""

import html
import math
import os
import xml.etree.ElementTree as ET

E = html.escape


def fmt(v, unit="", nd=2):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v != 0 and abs(v) < 0.01:
            s = f"{v:.4f}"
        else:
            s = f"{v:.{nd}f}"
    else:
        s = str(v)
    return f"{s} {unit}".strip()


def pct(v):
    return "n/a" if v is None else f"{v:.1f}%"


def yes(b):
    return "yes" if b else "NO"


# ---- SVG plots ------------------------------------------------------------------

def svg_ranges(rows, title, unit, width=720):
    """Horizontal min-max ranges with the median as a dot and the baseline as a
    tick, on a log scale (case times span 0.1 ms to seconds)."""
    rows = [r for r in rows if r.get("current")]
    if not rows:
        return "<p class='muted'>no timings to plot</p>"
    vals = [v for r in rows for v in (r.get("min"), r.get("max"), r.get("current"),
                                     r.get("baseline")) if v]
    lo, hi = math.log10(min(vals)) - 0.1, math.log10(max(vals)) + 0.1
    left, bar_h = 260, 16
    h = 30 + bar_h * len(rows) + 20
    span = width - left - 20

    def x(v):
        return left + span * (math.log10(v) - lo) / (hi - lo)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{h}' "
           f"role='img' aria-label='{E(title)}'><title>{E(title)}</title>"]
    for d in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= d <= hi:
            xx = x(10 ** d)
            out.append(f"<line x1='{xx:.1f}' y1='20' x2='{xx:.1f}' y2='{h - 18}' class='grid'/>"
                       f"<text x='{xx:.1f}' y='{h - 4}' class='ax'>{E(fmt(10.0 ** d, unit, 0) if d >= 0 else fmt(10.0 ** d, unit, -d))}</text>")
    for i, r in enumerate(rows):
        y = 26 + i * bar_h
        cls = "bad" if r.get("status") == "regression" else "ok"
        name = r["name"].split(":", 1)[-1]
        out.append(f"<text x='{left - 6}' y='{y + 11}' class='lbl'>{E(name[:40])}</text>")
        mn, mx = r.get("min") or r["current"], r.get("max") or r["current"]
        out.append(f"<line x1='{x(mn):.1f}' y1='{y + 7}' x2='{x(mx):.1f}' y2='{y + 7}' "
                   f"class='rng {cls}'/>")
        out.append(f"<circle cx='{x(r['current']):.1f}' cy='{y + 7}' r='4' class='{cls}'>"
                   f"<title>{E(name)}: {fmt(r['current'], unit)}, baseline "
                   f"{fmt(r.get('baseline'), unit)}</title></circle>")
        if r.get("baseline"):
            bx = x(r["baseline"])
            out.append(f"<line x1='{bx:.1f}' y1='{y + 1}' x2='{bx:.1f}' y2='{y + 13}' class='base'/>")
    out.append("</svg>")
    return "".join(out)


def svg_ratios(rows, title, width=720):
    """Slowdown factor against the baseline per figure (1 = same), with each
    figure's tolerance as a mark: a bar past its mark is a regression."""
    rows = [r for r in rows if r.get("ratio") is not None and math.isfinite(r["ratio"])]
    if not rows:
        return "<p class='muted'>no figure compared with a baseline</p>"
    top = max(3.0, max(max(r["ratio"], r["tolerance"]) for r in rows) * 1.1)
    left, bar_h = 260, 16
    h = 30 + bar_h * len(rows) + 20
    span = width - left - 20

    def x(v):
        return left + span * min(v, top) / top
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{h}' "
           f"role='img' aria-label='{E(title)}'><title>{E(title)}</title>"]
    for t in range(0, int(top) + 1):
        out.append(f"<line x1='{x(t):.1f}' y1='20' x2='{x(t):.1f}' y2='{h - 18}' class='grid'/>"
                   f"<text x='{x(t):.1f}' y='{h - 4}' class='ax'>{t}x</text>")
    for i, r in enumerate(rows):
        y = 26 + i * bar_h
        cls = "bad" if r["status"] == "regression" else "ok"
        out.append(f"<text x='{left - 6}' y='{y + 11}' class='lbl'>"
                   f"{E(r['name'].replace('bench:', '')[:44])}</text>")
        out.append(f"<rect x='{left}' y='{y + 2}' width='{x(r['ratio']) - left:.1f}' height='10' "
                   f"class='{cls}'><title>{E(r['name'])}: {r['ratio']}x (tolerance "
                   f"{r['tolerance']}x)</title></rect>")
        out.append(f"<line x1='{x(r['tolerance']):.1f}' y1='{y}' x2='{x(r['tolerance']):.1f}' "
                   f"y2='{y + 14}' class='base'/>")
    out.append("</svg>")
    return "".join(out)


def svg_handoff(curve, width=720):
    """Handoff time against zone size, log-log, per mode: fresh (solid) and
    warm (dashed) medians, and the floor measured in the same run (a flat
    grey line): a handoff at the floor's distance at every size is the
    design working."""
    sizes = (curve or {}).get("sizes_mib") or []
    modes = [(m, c) for m, c in (("process", "#2f6db5"), ("thread", "#e39b2d"))
             if (curve or {}).get(m)]
    if not sizes or not modes:
        return "<p class='muted'>no handoff curve in bench.json</p>"
    vals = [v for m, _ in modes for k in ("fresh_us", "warm_us") for v in curve[m].get(k, []) if v]
    vals += [curve[m]["floor_us"] for m, _ in modes if curve[m].get("floor_us")]
    lo, hi = math.log10(min(vals)) - 0.1, math.log10(max(vals)) + 0.1
    xl, xh = math.log10(min(sizes)), math.log10(max(sizes))
    left, top, h = 60, 20, 260
    span, vspan = width - left - 150, h - top - 40

    def x(v):
        return left + span * (math.log10(v) - xl) / ((xh - xl) or 1)

    def y(v):
        return top + vspan * (1 - (math.log10(v) - lo) / (hi - lo))
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{h}' role='img' "
           f"aria-label='handoff against zone size'><title>handoff (us) against zone size, "
           f"with the floor of each mode</title>"]
    for d in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= d <= hi:
            out.append(f"<line x1='{left}' y1='{y(10 ** d):.1f}' x2='{left + span}' "
                       f"y2='{y(10 ** d):.1f}' class='grid'/><text x='{left - 6}' "
                       f"y='{y(10 ** d) + 3:.1f}' class='lbl'>{E(fmt(10.0 ** d, 'us', 0))}</text>")
    for sz in sizes:
        out.append(f"<text x='{x(sz):.1f}' y='{h - 20}' class='ax'>"
                   f"{E(f'{sz // 1024} GiB' if sz >= 1024 else f'{sz} MiB')}</text>")
    for i, (m, color) in enumerate(modes):
        c = curve[m]
        for key, dash in (("fresh_us", ""), ("warm_us", " stroke-dasharray='5 3'")):
            pts = " ".join(f"{x(sz):.1f},{y(v):.1f}" for sz, v in zip(sizes, c.get(key, [])) if v)
            out.append(f"<polyline points='{pts}' fill='none' stroke='{color}' stroke-width='2'"
                       f"{dash}><title>{E(m)} {E(key[:-3])}</title></polyline>")
        if c.get("floor_us"):
            fy = y(c["floor_us"])
            out.append(f"<line x1='{left}' y1='{fy:.1f}' x2='{left + span}' y2='{fy:.1f}' "
                       f"stroke='{color}' stroke-opacity='0.5' stroke-width='1'/>"
                       f"<text x='{left + span + 4}' y='{fy + 3:.1f}' class='ax' "
                       f"style='text-anchor:start'>{E(m)} floor {E(fmt(c['floor_us'], 'us'))}</text>")
        ly = top + 14 * i
        out.append(f"<text x='{left + span + 4}' y='{ly + 100:.1f}' class='ax' "
                   f"style='text-anchor:start;fill:{color}'>{E(m)}: fresh solid, warm dashed</text>")
    out.append("</svg>")
    return "".join(out)


def svg_coverage(files, width=720):
    rows = [f for f in files if f.get("lines") is not None]
    if not rows:
        return "<p class='muted'>no coverage data</p>"
    left, bar_h = 260, 18
    h = 30 + bar_h * len(rows) + 20
    span = width - left - 20
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{h}' role='img' "
           "aria-label='line and branch coverage per file'>"
           "<title>line (upper) and branch (lower) coverage per file</title>"]
    for t in range(0, 101, 25):
        xx = left + span * t / 100
        out.append(f"<line x1='{xx:.1f}' y1='20' x2='{xx:.1f}' y2='{h - 18}' class='grid'/>"
                   f"<text x='{xx:.1f}' y='{h - 4}' class='ax'>{t}%</text>")
    for i, f in enumerate(rows):
        y = 26 + i * bar_h
        out.append(f"<text x='{left - 6}' y='{y + 12}' class='lbl'>{E(f['file'])}</text>")
        out.append(f"<rect x='{left}' y='{y + 1}' width='{span * f['lines'] / 100:.1f}' "
                   f"height='7' class='ln'><title>{E(f['file'])}: lines {pct(f['lines'])}"
                   f"</title></rect>")
        b = f.get("branches") or 0
        out.append(f"<rect x='{left}' y='{y + 9}' width='{span * b / 100:.1f}' height='7' "
                   f"class='br'><title>{E(f['file'])}: branches {pct(f.get('branches'))}"
                   f"</title></rect>")
    out.append("</svg>")
    return "".join(out)


# ---- HTML -----------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px;color:#222}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:6px 0}
nav a{margin-right:14px}
table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #ddd;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}
.verdict{font-size:20px;font-weight:bold;padding:8px 12px;border-radius:4px;display:inline-block}
.VERIFIED,.ok,.pass{color:#0a6b2a}.NOTVERIFIED,.bad,.fail,.regression{color:#b00020}
.verdict.VERIFIED{background:#e3f6e8}.verdict.NOTVERIFIED{background:#fde7ea}
.muted{color:#777}code{background:#f4f4f4;padding:1px 3px}pre{background:#f4f4f4;padding:8px;
overflow-x:auto}svg .grid{stroke:#e4e4e4}svg .ax{font-size:10px;text-anchor:middle;fill:#666}
svg .lbl{font-size:11px;text-anchor:end;fill:#333}svg .rng{stroke-width:3}
svg line.ok,svg .rng.ok{stroke:#6a9fd8}svg circle.ok,svg rect.ok{fill:#2f6db5}
svg .bad{fill:#b00020;stroke:#b00020}svg .base{stroke:#222;stroke-width:2}
svg .ln{fill:#2f6db5}svg .br{fill:#e39b2d}
"""


def _table(head, rows):
    h = "".join(f"<th>{E(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r)
                   + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _vclass(v):
    return "VERIFIED" if v == "VERIFIED" else "NOTVERIFIED"


def _link_if(outdir, href, text):
    if outdir is None or os.path.exists(os.path.join(outdir, href.split("#")[0])):
        return f"<a href='{E(href)}'>{E(text)}</a>"
    return f"{E(text)} <span class='muted'>(not generated)</span>"


def render_html(m, outdir=None):
    s = m["summary"]
    p = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
         "<meta name='viewport' content='width=device-width,initial-scale=1'>",
         "<title>gapcheck verification report</title>",
         f"<style>{CSS}</style></head><body>",
         "<nav><a href='#summary'>Summary</a><a href='#incidents'>Incidents</a>"
         "<a href='#cases'>Cases</a><a href='#coverage'>Coverage</a>"
         "<a href='#timings'>Timings</a><a href='#reproduce'>Reproduce</a></nav>",
         "<h1>gapcheck verification report</h1>",
         f"<p class='muted'>generated {E(m['generated_at'])} on {E(m['machine']['host'])} "
         f"({E(m['machine']['kernel'])}, {E(str(m['machine']['cores']))} cores, "
         f"{E(m['machine']['cpu'] or 'cpu unknown')})</p>"]
    # summary
    overall = "PASS" if s["ok"] else "FAIL"
    p.append("<h2 id='summary'>Summary</h2>")
    p.append(f"<p class='verdict {'VERIFIED' if s['ok'] else 'NOTVERIFIED'}'>verify: {overall}</p>")
    rows = [["make check", f"{s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped"],
            ["cases (timing run)", f"{s['cases']['passed']} passed, {s['cases']['failed']} failed, "
                                   f"{s['cases']['skipped']} skipped of {s['cases']['total']}"],
            ["incidents verified", f"{s['incidents_verified']} of {s['incidents']}"],
            ["coverage", f"lines {pct(m['coverage']['lines'])}, branches "
                         f"{pct(m['coverage']['branches'])}"],
            ["timings", f"{m['timing'].get('regressions', 0)} regressions in "
                        f"{m['timing'].get('compared', 0)} compared figures"],
            ["mutation score (make mutate)", mutation_text(m.get("mutation"))],
            ["anomaly loops (make check)", anomaly_text(m.get("anomaly"))]]
    rows += [[f"stage: make {k}", f"<span class='{'ok' if v == 'ok' else 'bad'}'>{v}</span>"]
             for k, v in s["stages"].items()]
    p.append(_table(["what", "result"], [[E(a), b if b.startswith("<span") else E(b)]
                                         for a, b in rows]))
    p.append("<p>Also: " + ", ".join([_link_if(outdir, "verify.json", "verify.json"),
                                      _link_if(outdir, "junit.xml", "junit.xml"),
                                      _link_if(outdir, "coverage.xml", "coverage.xml (Cobertura)")]
                                     + [_link_if(outdir, f"{i['id']}.md", f"{i['id']}.md")
                                        for i in m["incidents"]]) + "</p>")
    # incidents
    p.append("<h2 id='incidents'>Incidents</h2>")
    if not m["incidents"]:
        p.append("<p class='muted'>no incident found under cases/</p>")
    for inc in m["incidents"]:
        p.append(_incident_html(inc))
    # cases
    p.append("<h2 id='cases'>Cases</h2>")
    p.append(f"<p class='muted'>from {E(str(m.get('results_source')))}</p>")
    p.append(_table(["case", "mode", "status", "runs", "wall min / median / max (ms)", "message"],
                    [[f"<td id='case-{E(_slug(c['id']))}'>{E(c['id'])}</td>", E(c["mode"]),
                      f"<span class='{E(c['status'])}'>{E(c['status'])}</span>", str(c["runs"]),
                      E(" / ".join(fmt(c['wall_ms'][k]) for k in ("min", "median", "max"))),
                      E(c["message"][:160])] for c in m["cases"]]))
    # coverage
    c = m["coverage"]
    p.append("<h2 id='coverage'>Coverage</h2>")
    if c["measured"]:
        th = c.get("thresholds") or {}
        p.append(f"<p>lines <b>{pct(c['lines'])}</b> ({c['lines_hit']} of {c['lines_found']}), "
                 f"branches <b>{pct(c['branches'])}</b> ({c['branches_hit']} of "
                 f"{c['branches_found']}); thresholds: lines {pct(th.get('lines'))}, branches "
                 f"{pct(th.get('branches'))} — <span class='{'ok' if c['ok'] else 'bad'}'>"
                 f"{'met' if c['ok'] else 'NOT met'}</span>. Full report: "
                 f"{_link_if(outdir, 'coverage/index.html', 'coverage/index.html')}.</p>")
        p.append(svg_coverage(c["files"]))
    else:
        p.append("<p class='bad'>coverage not measured (make coverage did not run)</p>")
    # timings
    t = m["timing"]
    p.append("<h2 id='timings'>Timings</h2>")
    for note in t.get("notes", []):
        p.append(f"<p class='muted'>{E(note)}</p>")
    p.append("<p class='muted'>How the gate decides (reports/README.md): <code>case:</code> "
             "figures are the CPU time of a case (min over repeats) divided by the reference "
             "measured right before each run (a memfd fill, no engine code), so machine-wide "
             "slowness cancels; <code>wall:</code> figures (min over repeats) are gated only "
             "for paced cases; bench figures are medians. Ratio = slowdown against the "
             "baseline after that normalisation.</p>")
    for group, what in (("cases", "Case CPU time (the engine's cost)"),
                        ("case_wall", "Case wall time")):
        rows = [r for r in t.get("figures", []) if r["group"] == group]
        p.append(f"<h3>{E(what)}: min–max range over repeats, min (dot), baseline (tick)</h3>")
        p.append(svg_ranges(rows, f"{what.lower()} per result (log scale)", "ms"))
    p.append("<h3>Gated figures: slowdown against the baseline (bar), tolerance (tick)</h3>")
    p.append(svg_ratios([r for r in t.get("figures", []) if r.get("gated", True)],
                        "slowdown factor per gated figure"))
    p.append(_table(["figure", "current", "reference now / baseline", "baseline", "ratio",
                     "tolerance", "gated", "status"],
                    [[E(r["name"]), E(fmt(r["current"], r["unit"])),
                      E(f"{fmt(r.get('ref'))} / {fmt(r.get('baseline_ref'))} "
                        f"({r.get('ref_what')})" if r.get("ref") else "-"),
                      E(fmt(r["baseline"], r["unit"])), E(fmt(r["ratio"], "x")),
                      E(f"{r['tolerance']}x + {r['slack']} {r['unit']}"),
                      E(("yes" if r.get("gated", True) else "no") +
                        (f": {r['why']}" if r.get("why") else "")),
                      f"<span class='{E(r['status'].split()[0])}'>{E(r['status'])}</span>"]
                     for r in t.get("figures", [])]))
    if m.get("bench"):
        p.append("<h3>Handoff against zone size, both modes, with the floor of each</h3>")
        if (m["bench"].get("load") or {}).get("start"):
            p.append(f"<p class='muted'>load average at the bench's start: "
                     f"{E(m['bench']['load']['start'])}</p>")
        p.append(svg_handoff(m["bench"].get("curve")))
        p.append("<h3>Bench targets</h3>")
        p.append(_table(["target", "measured", "limit", "met"],
                        [[E(x["text"]), E(fmt(x["measured"])), E(fmt(x["limit"])),
                          f"<span class='{'ok' if x['met'] else 'bad'}'>{yes(x['met'])}</span>"]
                         for x in m["bench"]["targets"]]))
    # reproduce
    p.append("<h2 id='reproduce'>Reproduce</h2><pre>")
    p.append(E("make verify        # this page, verify.json, junit.xml, INC-*.md\n"
               "make check         # every test\nmake coverage      # thresholds in "
               "reports/thresholds.json\nmake timings       # compare with reports/baseline.json\n"
               "make baseline      # refresh the baseline (commit it)\n"))
    p.append("</pre></body></html>\n")
    return "\n".join(p)


def anomaly_text(an):
    if not an:
        return "no anomaly run recorded (make check)"
    oc = ", ".join(f"{k} {v}" for k, v in sorted(an["outcomes"].items()))
    text = (f"{an['operations']} operations x {an['kinds']} injection kinds = {an['points']} "
            f"injection points ({an['mode']}); outcomes: {oc}; call sites failed: "
            f"{an['sites_failed']} of {an['sites_total']}")
    if an["unreached"]:
        text += "; not reached: " + ", ".join(an["unreached"])
    return text


def mutation_text(mu):
    if not mu:
        return "no campaign yet (make mutate)"
    return (f"{pct(mu['score'])} of {mu['mutants']} mutants killed, {mu['survivors']} survivors, "
            f"{mu['equivalent']} equivalent; {mu['generated_at']} at {mu['commit'] or '?'} "
            f"(reports/mutation.html)")


def _incident_mutation(inc):
    mi = inc.get("mutation")
    if not mi:
        return "no mutation campaign covered its functions (make mutate)"
    return (f"{pct(mi['score'])} of {mi['total']} mutants of the functions it touched killed, "
            f"{mi.get('Survived', 0)} survived ({', '.join(mi.get('functions', []))})")


def _slug(s):
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in s)


MODES = ("thread", "process")


def _matrix_cell(m):
    """What one case did in one mode with the bug re-injected, as the verdict says."""
    if not m:
        return "not run", "muted"
    cls = {"caught": "ok", "not caught": "bad"}.get(m["cell"], "muted")
    return f"{m['cell']} ({m['reinject']})", cls


def _matrix_html(inc):
    rows = []
    for r in inc["matrix"]:
        cells = [E(r["case_id"])]
        for mode in MODES:
            text, cls = _matrix_cell(r["modes"].get(mode))
            cells.append(f"<span class='{cls}'>{E(text)}</span>")
        rows.append(cells)
    return _table(["re-injection x case", "thread", "process"], rows)


def _history_text(inc):
    """One sentence on what the history checker did against this re-injection."""
    h = inc["history"]
    if not h["ran"]:
        return "The history cases did not run against this re-injection (gapcheck verify --also)."
    return (f"The history cases ({h['cases']}, told no bug) {'caught' if h['caught'] else 'did not catch'} "
            f"this re-injection: {h['thread']} thread and {h['process']} process runs of "
            f"{h['runs']} failed" + (f"; first: {h['first']}" if h["first"] else "") + ".")


def _incident_html(inc):
    v = inc["verdict"]
    p = [f"<h3 id='{E(_slug(inc['id']))}'>{E(inc['id'])}: {E(inc['title'])}</h3>",
         f"<p class='verdict {_vclass(v)}'>{E(v)}</p>",
         f"<p>{E(inc['summary'])}</p>",
         _table(["check", "holds"], [
             ["fix holds: every case passes", f"<span class='{'ok' if inc['fix_holds'] else 'bad'}'>{yes(inc['fix_holds'])}</span>"],
             ["cases are sensitive: with the bug re-injected, a case fails",
              f"<span class='{'ok' if inc['sensitive'] else 'bad'}'>{yes(inc['sensitive'])}</span>"],
             ["claims hold, measured", f"<span class='{'ok' if inc['claims_hold'] else 'bad'}'>{yes(inc['claims_hold'])}</span>"],
             ["touched code is covered", f"<span class='{'ok' if inc['coverage_ok'] else 'bad'}'>{yes(inc['coverage_ok'])}</span>"]]),
         f"<p>Mutation score: {E(_incident_mutation(inc))}</p>"]
    p.append("<h4>Fix holds</h4>")
    p.append(_table(["case", "status", "median ms"],
                    [[f"<a href='#case-{E(_slug(c['id']))}'>{E(c['id'])}</a>"
                      if c.get("in_results") else E(c["id"]),
                      f"<span class='{E(c['status'])}'>{E(c['status'])}</span>",
                      E(fmt(c["wall_ms"]["median"]))] for c in inc["cases"]]))
    sens = inc["sensitivity"]
    p.append("<h4>Cases are sensitive</h4>")
    if sens["ran"]:
        p.append(f"<p>With the bug re-injected (<code>{E(sens['patch'] or '')}</code>, changes "
                 f"{E(', '.join(sens['changed']))}; affects {E(' and '.join(sens['affects']))} "
                 f"mode), {len(sens['caught'])} case runs fail and {len(sens['still_pass'])} "
                 f"cannot fail against it:</p>")
    else:
        p.append("<p class='bad'>no re-injected run (see the verdict).</p>")
    p.append(_matrix_html(inc))
    p.append("<h4>History checker</h4>")
    p.append(f"<p class='{'ok' if inc['history']['caught'] else 'muted'}'>{E(_history_text(inc))}</p>")
    p.append("<h4>Claims hold</h4>")
    p.append(_table(["claim", "claimed", "measured", "holds", "where"],
                    [[E(c["text"]), E(fmt(c["claimed"], c["unit"])),
                      E(fmt(c["measured"], c["unit"], 3)),
                      f"<span class='{'ok' if c['holds'] else 'bad'}'>{yes(c['holds'])}</span>",
                      E(c["source"])] for c in inc["claims"]]))
    mc = inc["machine"]
    p.append(f"<p class='muted'>measured on {E(mc['host'])}: {E(mc['cpu'])}, {mc['cores']} cores, "
             f"{E(mc['memory'])}, {E(mc['kernel'])}</p>")
    p.append("<h4>Coverage of the code the incident touched</h4>")
    rows = []
    for t in inc["touched"]:
        rows.append([f"<b>{E(t['file'])}</b>", "(file)",
                     E(f"{pct(t['lines'])} ({t['lines_hit']}/{t['lines_found']})"),
                     E(f"{pct(t['branches'])} ({t['branches_hit']}/{t['branches_found']})"), ""])
        for f in t["functions"]:
            rows.append(["", E(f["name"]),
                         E(f"{pct(f['lines'])} ({f['lines_hit']}/{f['lines_found']})"),
                         E(f"{pct(f['branches'])} ({f['branches_hit']}/{f['branches_found']})"),
                         E(str(f["calls"]))])
    p.append(_table(["file", "function", "lines", "branches", "calls"], rows))
    p.append("<h4>How to reproduce</h4><pre>" + E("\n".join(inc["reproduce"])) + "</pre>")
    return "\n".join(p)


# ---- Markdown (one per incident) ------------------------------------------------

def _md_row(cells):
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _md_table(head, rows):
    return "\n".join([_md_row(head), _md_row(["---"] * len(head))] + [_md_row(r) for r in rows])


def render_incident_md(inc, m):
    mc = inc["machine"]
    sens = inc["sensitivity"]
    out = [f"# {inc['id']}: {inc['title']}", "",
           f"**Verdict: {inc['verdict']}**", "",
           _md_table(["check", "holds"], [
               ["fix holds (every case passes)", yes(inc["fix_holds"])],
               ["cases are sensitive (a case fails with the bug re-injected)", yes(inc["sensitive"])],
               ["claims hold (measured)", yes(inc["claims_hold"])],
               ["code the incident touched is covered", yes(inc["coverage_ok"])]]), "",
           f"Mutation score: {_incident_mutation(inc)}.", "",
           f"Generated {m['generated_at']} by `make verify`; machine-readable: `reports/verify.json`.",
           "", "## Summary", "", inc["summary"] or "(no summary in cases/%s/INCIDENT.md)" % inc["id"],
           "", "## Fix holds", "",
           f"{sum(c['passed'] for c in inc['cases'])} of {len(inc['cases'])} "
           f"case runs pass (wall time over {max([c['runs'] for c in inc['cases']] or [0])} runs).", "",
           _md_table(["case", "status", "min ms", "median ms", "max ms"],
                     [[c["id"], c["status"], fmt(c["wall_ms"]["min"]), fmt(c["wall_ms"]["median"]),
                       fmt(c["wall_ms"]["max"])] for c in inc["cases"]]), "",
           "## Cases are sensitive", ""]
    if sens["ran"]:
        out += [f"With the bug re-injected (`{sens['patch']}`, changes "
                f"{', '.join('`%s`' % c for c in sens['changed'])}; affects "
                f"{' and '.join(sens['affects'])} mode), {len(sens['caught'])} case runs fail "
                f"and {len(sens['still_pass'])} cannot fail against it. Verdict file: "
                f"`{inc['verdict_file']}`.", "",
                _md_table(["re-injection x case", "thread", "process"],
                          [[r["case_id"]] + [_matrix_cell(r["modes"].get(mo))[0] for mo in MODES]
                           for r in inc["matrix"]]), ""]
    else:
        out += ["No re-injected run (see the verdict).", ""]
    out += ["## History checker", "", _history_text(inc), ""]
    out += ["## Claims hold", "",
            _md_table(["claim", "claimed", "measured", "holds", "measured by"],
                      [[c["text"], fmt(c["claimed"], c["unit"]), fmt(c["measured"], c["unit"], 3),
                        yes(c["holds"]), c["source"]] for c in inc["claims"]]), "",
            f"Measured on `{mc['host']}`: {mc['cpu']}, {mc['cores']} cores, {mc['memory']}, "
            f"{mc['kernel']}.", "",
            "## Coverage of the code the incident touched", "",
            "Line and branch coverage from `make coverage` (lcov, gcc --coverage; forked "
            "workers flush their counters). A function's lines run from its first line to the "
            "next function's.", ""]
    rows = []
    for t in inc["touched"]:
        rows.append([f"`{t['file']}`", "(whole file)",
                     f"{pct(t['lines'])} ({t['lines_hit']}/{t['lines_found']})",
                     f"{pct(t['branches'])} ({t['branches_hit']}/{t['branches_found']})", "",
                     t["why"]])
        for f in t["functions"]:
            rows.append(["", f"`{f['name']}`", f"{pct(f['lines'])} ({f['lines_hit']}/{f['lines_found']})",
                         f"{pct(f['branches'])} ({f['branches_hit']}/{f['branches_found']})",
                         f["calls"], ""])
    out += [_md_table(["file", "function", "lines", "branches", "calls", "why"], rows), "",
            "## How to reproduce", "", "```sh"] + inc["reproduce"] + ["```", ""]
    return "\n".join(out)


# ---- JUnit ----------------------------------------------------------------------

def render_junit(m):
    root = ET.Element("testsuites", name="gapcheck verify")
    total = fails = 0

    def suite(name):
        return ET.SubElement(root, "testsuite", name=name)

    def case(s, classname, name, failure=None, skipped=None, time_s=None):
        nonlocal total, fails
        tc = ET.SubElement(s, "testcase", classname=classname, name=name)
        if time_s is not None:
            tc.set("time", f"{time_s:.6f}")
        if failure:
            ET.SubElement(tc, "failure", message=failure[:500]).text = failure
            fails += 1
        elif skipped:
            ET.SubElement(tc, "skipped", message=skipped)
        total += 1
        return tc

    for inc in m["incidents"]:
        s = suite(f"incident.{inc['id']}")
        for key, what in (("fix_holds", "fix holds"), ("sensitive", "cases are sensitive"),
                          ("claims_hold", "claims hold"), ("coverage_ok", "touched code covered")):
            case(s, f"incident.{inc['id']}", key,
                 None if inc[key] else f"{what}: no. Verdict: {inc['verdict']}")
        for c in inc["claims"]:
            case(s, f"incident.{inc['id']}.claims", c["text"],
                 None if c["holds"] else f"measured {c['measured']} {c['unit']} > claimed "
                                         f"{c['claimed']} {c['unit']} ({c['source']})")
    s = suite("cases")
    for c in m["cases"]:
        med = c["wall_ms"]["median"]
        bad = c["failed"]
        case(s, f"cases.{c['incident'] or 'engine'}", c["id"],
             f"{c['status']}: {c['message']}" if bad else None,
             (c["message"] or "skipped") if c["status"] == "skip" else None,
             med / 1000 if med is not None else None)
    s = suite("coverage")
    cov = m["coverage"]
    case(s, "coverage", "thresholds",
         None if cov.get("ok") else "; ".join(cov.get("failures") or ["coverage not measured"]))
    s = suite("timing")
    for r in m["timing"].get("figures", []):
        case(s, f"timing.{r['group']}", r["name"],
             f"{r['current']} {r['unit']} vs baseline {r['baseline']} {r['unit']}: {r['ratio']}x "
             f"> {r['tolerance']}x" if r["status"] == "regression" else None,
             "no baseline" if r["status"] in ("new", "missing") else None)
    s = suite("stages")
    for k, v in m["summary"]["stages"].items():
        case(s, "stages", f"make {k}", None if v == "ok" else f"make {k} failed "
                                                               f"(reports/stages/{k}.log)")
    root.set("tests", str(total))
    root.set("failures", str(fails))
    for s in root:
        s.set("tests", str(len(s)))
        s.set("failures", str(sum(1 for tc in s if tc.find("failure") is not None)))
        s.set("skipped", str(sum(1 for tc in s if tc.find("skipped") is not None)))
        s.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
