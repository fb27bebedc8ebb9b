#!/usr/bin/env python3
"""Checks the relative links of README.md and docs/*.md: every linked file
exists and every #anchor is a heading of the target (GitHub's slug rule:
lower case, punctuation other than '-' and '_' dropped, spaces to '-').
Also checks README.md against its size limit (16,384 bytes).
usage: python3 scripts/docs/check-links.py   (exit 1 on a broken link)"""
import os, re, sys

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
files = [os.path.join(root, "README.md")] + sorted(
    os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))


def slugs(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"#+ (.*)", line)
        if m:
            s = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(s)
    return out


bad = 0
for f in files:
    text = open(f, encoding="utf-8").read()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(dest):
            print(f"{os.path.relpath(f, root)}: no file {target}"); bad = 1
        elif anchor and anchor not in slugs(dest):
            print(f"{os.path.relpath(f, root)}: no heading #{anchor} in {os.path.relpath(dest, root)}"); bad = 1
size = os.path.getsize(os.path.join(root, "README.md"))
print(f"README.md: {size} bytes (limit 16384)")
sys.exit(1 if bad or size > 16384 else 0)
