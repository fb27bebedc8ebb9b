#!/usr/bin/env python3
"""Checks an imvar report as a browser rendered it against the results file.

usage: check_report.py DIR NAMED_ID

DIR holds: report.html (what imvar wrote), report.dom (headless Chromium's
--dump-dom of it), report.console (Chromium's stderr with console logging),
probe.json (layout measured in Chromium by a probe script run on a copy),
shot.png (Chromium's screenshot), validate.json (imvar validate --json of the
same results file), summary.json, summary_models.csv, summary_portfolios.csv.
NAMED_ID is the portfolio named with --portfolios.

Prints one 'ok ...' or 'FAIL ...' line per check (standard library only).
"""
import csv
import json
import math
import os
import re
import struct
import sys
from html.parser import HTMLParser

d, named = sys.argv[1], sys.argv[2]
results = []


def check(cond, what):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + what)
    return cond


class Dom(HTMLParser):
    """Collects what the checks need from the DOM, tracking the enclosing
    model section, table row and figure."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.figures, self.cells, self.rows = set(), [], [], []
        self.tags = {}
        self.model = None
        self.row = None
        self.fig = None
        self.cell = None
        self.th = None
        self.imgs, self.refs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if a.get("id"):
            self.ids.add(a["id"])
        for k in ("src", "href", "xlink:href", "data", "action"):
            if k in a and a[k] is not None:
                self.refs.append((tag, k, a[k]))
        if tag == "img":
            self.imgs.append(a.get("src"))
        if tag == "section" and "model" in (a.get("class") or "").split():
            self.model = a.get("data-model")
        if tag == "tr" and "data-portfolio" in a:
            self.row = {"model": self.model, "id": a["data-portfolio"], "rank": int(a["data-rank"]),
                        "cells": {}, "th": ""}
        if tag == "th" and self.row is not None:
            self.th = ""
        if tag == "figure" and "chart" in (a.get("class") or "").split():
            self.fig = {"model": self.model, "kind": a.get("data-chart"), "svg": 0,
                        "empty": a.get("data-empty") == "1"}
        if tag == "svg" and self.fig is not None:
            self.fig["svg"] += 1
        if tag == "td" and "data-f" in a:
            self.cell = {"model": self.model, "f": a["data-f"], "v": a.get("data-v"), "text": ""}

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            c, self.cell = self.cell, None
            c["text"] = c["text"].strip()
            if self.row is not None:
                self.row["cells"][c["f"]] = c
            else:
                self.cells.append(c)
        if tag == "th" and self.th is not None:
            self.row["th"], self.th = self.th, None
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        if tag == "figure" and self.fig is not None:
            self.figures.append(self.fig)
            self.fig = None
        if tag == "section":
            self.model = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data
        if self.th is not None:
            self.th += data


def load(name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return f.read()


dom = Dom()
dom.feed(load("report.dom"))
raw = load("report.html")
val = json.loads(load("validate.json"))
summ = json.loads(load("summary.json"))
probe = json.loads(load("probe.json"))
models = [m["name"] for m in val["models"]]
P = len(val["models"][0]["portfolios"])

# ---- the page: sections, charts, nothing broken, nothing fetched ----
need = ["cover", "verdict", "verdicts", "run", "models", "toc", "calibration"]
for i in range(len(models)):
    need += [f"model-{i}"] + [f"model-{i}-{s}" for s in (
        "verdict", "coverage", "tests", "multiple", "magnitude", "procyclicality", "adequacy",
        "charts", "charted", "table")]
missing = [s for s in need if s not in dom.ids]
check(not missing, f"{len(need)} sections present in the rendered DOM" + (f" (missing {missing})" if missing else ""))

charted = {m["name"]: [c["portfolio"] for c in m["charted"]] for m in summ["models"]}
want_figs = sum(3 + 2 * len(charted[m]) for m in models)
check(len(dom.figures) == want_figs,
      f"{len(dom.figures)} chart figures, expected {want_figs} (3 per model + 2 per charted portfolio)")
for m in models:
    kinds = [f["kind"] for f in dom.figures if f["model"] == m]
    check(all(k in kinds for k in ("exceed-vs-binomial", "pvalue-histogram", "rolling-traffic-light")),
          f"{m}: exceedance, p-value and rolling traffic-light charts present")
    check(kinds.count("margin-vs-loss") == len(charted[m]) == kinds.count("margin-increases"),
          f"{m}: margin-vs-loss and margin-increases charts for each of {len(charted[m])} charted portfolios")
    check(named in charted[m], f"{m}: the portfolio named with --portfolios is charted")
drawn = [f for f in dom.figures if not f["empty"]]
check(all(f["svg"] == 1 for f in drawn) and dom.tags.get("svg", 0) == len(drawn),
      f"every drawn chart is one inline <svg> ({dom.tags.get('svg', 0)} in the DOM, {len(drawn)} drawn)")
check(len(probe["figs"]) == len(dom.figures), "the layout probe saw every figure")
bad = [f for f in probe["figs"] if f["w"] < 300 or f["h"] < 150 or f["paths"] < 10]
check(not bad and len(probe["figs"]) > 0,
      f"every chart is laid out by Chromium with a size and drawn paths ({len(probe['figs'])} measured)" +
      (f"; bad: {bad[:3]}" if bad else ""))
check(all(i["ok"] for i in probe["imgs"]), f"no broken images ({len(probe['imgs'])} <img> in the page)")
check(dom.tags.get("img", 0) == 0 and dom.tags.get("script", 0) == 0 and dom.tags.get("link", 0) == 0
      and dom.tags.get("iframe", 0) == 0 and dom.tags.get("object", 0) == 0,
      "no <img>, <script>, <link>, <iframe> or <object> in the report")
ext = [r for r in dom.refs if not r[2].startswith("#")]
check(not ext, "every src/href in the DOM is a fragment within the page" + (f" (found {ext[:3]})" if ext else ""))
urls = set(re.findall(r"https?://[^\s\"'<>)]+", raw)) - {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
check(not urls, "no URL in report.html but the SVG namespaces" + (f" (found {sorted(urls)[:3]})" if urls else ""))
console = [l for l in load("report.console").splitlines() if ":CONSOLE" in l]
check(not console, "Chromium logged no console message (no CSP violation, no failed load)" +
      (f": {console[:2]}" if console else ""))
png = open(os.path.join(d, "shot.png"), "rb").read()
w, hgt = struct.unpack(">II", png[16:24]) if png[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)
check(w == 1280 and hgt > 1000 and len(png) > 50000, f"screenshot is a {w}x{hgt} PNG of {len(png)} bytes")

# ---- escaping: a portfolio id full of markup comes back as the same text ----
evil = [r for r in dom.rows if "<" in r["id"]]
check(evil and all(r["th"] == r["id"] for r in evil) and "<i>evil</i>" not in raw and "&lt;i&gt;evil&lt;/i&gt;" in raw,
      "a portfolio id with markup, quotes and & is shown as text, escaped in the HTML")

# ---- numbers shown = numbers in results.h5 (imvar validate --json) ----
PFIELDS = ("p_uc", "p_ind", "p_cc", "p_tuff", "p_tbfi", "p_tbf", "dur_p", "dq_p", "bin_p")


def same(v, j):
    """data-v attribute v against a JSON value j."""
    if j is None:
        return v in ("", None)
    if isinstance(j, str):
        return v == j
    if isinstance(j, int) and not isinstance(j, bool):
        return v not in ("", None) and float(v) == j and str(int(float(v))) == str(j)
    return v not in ("", None) and float(v) == j


def shown(f, j, text):
    """The rounding a person sees, for the fields whose format is fixed."""
    if f in PFIELDS:
        return text == ("\u2013" if j is None else f"{j + 0.0:.4f}")
    if f in ("n_obs", "n_exceed"):
        return text == str(j)
    if f == "expected":
        return text == f"{j:.2f}"
    return True


for mj in val["models"]:
    m = mj["name"]
    rows = [r for r in dom.rows if r["model"] == m]
    byid = {p["id"]: p for p in mj["portfolios"]}
    check(len(rows) == P and {r["id"] for r in rows} == set(byid),
          f"{m}: the table has every one of the {P} portfolios")
    check([r["rank"] for r in rows] == list(range(1, P + 1)), f"{m}: rows in worst-first rank order")
    zone_key = "tl_zone_overlap" if mj["horizon_days"] > 1 else "tl_zone"
    sev = {"red": 2, "yellow": 1, "green": 0, None: -1}
    zs = [sev[byid[r["id"]][zone_key]] if byid[r["id"]]["n_obs"] > 0 else -1 for r in rows]
    check(zs == sorted(zs, reverse=True), f"{m}: worst first means red, then yellow, then green ({zone_key})")
    compared = mism = 0
    bad = []
    for r in rows:
        pj = byid[r["id"]]
        for f, c in r["cells"].items():
            if f not in pj:
                continue
            compared += 1
            if not same(c["v"], pj[f]) or not shown(f, pj[f], c["text"]):
                mism += 1
                bad.append((r["id"], f, c["v"], c["text"], pj[f]))
    check(compared >= P * 24 and mism == 0,
          f"{m}: {compared} per-portfolio numbers in the table equal imvar validate --json "
          f"(value and shown rounding)" + (f"; {mism} differ, e.g. {bad[:3]}" if mism else ""))
    sj = mj["summary"]
    cells = [c for c in dom.cells if c["model"] == m and c["f"].startswith("summary.")]
    ok = [c for c in cells if same(c["v"], sj[c["f"][8:]])]
    check(len(cells) >= 12 and len(ok) == len(cells),
          f"{m}: {len(cells)} model-level figures equal the validate summary" +
          ("" if len(ok) == len(cells) else f" ({[c for c in cells if c not in ok][:3]})"))
    sm = next(x for x in summ["models"] if x["name"] == m)
    check(all(sm["summary"][k] == sj[k] for k in sj), f"{m}: summary.json summary equals the validate summary")
    vcell = [c for c in dom.cells if c["f"] == "verdict" and c["v"] == sm["verdict"]]
    check(sm["verdict"] in ("pass", "attention", "fail") and vcell,
          f"{m}: verdict '{sm['verdict']}' shown on the cover and in summary.json")
    zc = {c["f"]: c for c in dom.cells if c["model"] == m and c["f"].startswith("zones.")}
    cnt = {z: sum(1 for p in mj["portfolios"] if p["n_obs"] > 0 and p[zone_key] == z) for z in ("green", "yellow", "red")}
    check(all(same(zc["zones." + z]["v"], cnt[z]) and sm["zones"][z] == cnt[z] for z in cnt),
          f"{m}: zone counts {cnt} shown and in summary.json")
    passed = sum(1 for p in mj["portfolios"] if p["n_obs"] > 0 and p["p_uc"] is not None and p["p_uc"] >= 0.05)
    kup = next(t for t in sm["tests"] if t["key"] == "p_uc")
    check(kup["passed"] == passed and kup["passed"] + sj["n_reject_uc"] == kup["defined"],
          f"{m}: Kupiec pass count {passed} agrees with the rejections")
    big = max((p["largest_exceedance"] for p in mj["portfolios"] if p["largest_exceedance"] is not None), default=None)
    check(sm["magnitude"]["largest_exceedance"] == big, f"{m}: largest exceedance {big} in summary.json")

# ---- the CSV tables ----
with open(os.path.join(d, "summary_portfolios.csv"), newline="", encoding="utf-8") as f:
    crow = list(csv.DictReader(f))
check(len(crow) == P * len(models), f"summary_portfolios.csv has {len(crow)} rows = models x portfolios")
diff = 0
for mj in val["models"]:
    byid = {p["id"]: p for p in mj["portfolios"]}
    for r in (x for x in crow if x["model"] == mj["name"]):
        pj = byid[r["portfolio"]]
        for k, j in pj.items():
            if k == "id":
                continue
            v = r[k]
            if not (v == "" if j is None else (v == j if isinstance(j, str) else float(v) == j)):
                diff += 1
check(diff == 0, f"every statistic in summary_portfolios.csv equals imvar validate --json ({diff} differ)")
with open(os.path.join(d, "summary_models.csv"), newline="", encoding="utf-8") as f:
    mrow = list(csv.DictReader(f))
check([r["model"] for r in mrow] == models and
      all(r["verdict"] == next(x for x in summ["models"] if x["name"] == r["model"])["verdict"] for r in mrow),
      "summary_models.csv has one row per model with the same verdicts")
