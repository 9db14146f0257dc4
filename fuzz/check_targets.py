#!/usr/bin/env python3
"""fuzz/targets.txt is the one list of fuzz targets: every fuzz/*_fuzz.cpp is
listed once, with a known DEPS and SEEDS word, a seed corpus directory and a
row in the README table. Prints each mismatch; exit 1 if any."""

import glob
import os
import re
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
problems = []

rows = []
with open(os.path.join(FUZZ, "targets.txt")) as f:
    for n, line in enumerate(f, 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) != 3 or words[1] not in ("none", "boost") or words[2] not in ("gen", "hand"):
            problems.append("targets.txt:%d: expected NAME none|boost gen|hand, got %r" % (n, line.strip()))
            continue
        rows.append(words[0])

if len(set(rows)) != len(rows):
    problems.append("targets.txt names a target twice")
sources = sorted(os.path.basename(p)[:-len(".cpp")] for p in glob.glob(os.path.join(FUZZ, "*_fuzz.cpp")))
for t in sorted(set(sources) - set(rows)):
    problems.append("fuzz/%s.cpp is not in targets.txt" % t)
for t in sorted(set(rows) - set(sources)):
    problems.append("targets.txt names %s, but fuzz/%s.cpp does not exist" % (t, t))
with open(os.path.join(FUZZ, "README.md")) as f:
    readme_rows = set(re.findall(r"^\| `([a-z_]+_fuzz)` \|", f.read(), re.M))
for t in rows:
    if not os.path.isdir(os.path.join(FUZZ, "corpus", t)):
        problems.append("%s has no seed corpus fuzz/corpus/%s/" % (t, t))
    if t not in readme_rows:
        problems.append("%s has no row in the fuzz/README.md table" % t)
for t in sorted(readme_rows - set(rows)):
    problems.append("fuzz/README.md describes %s, which targets.txt does not list" % t)

for p in problems:
    print(p)
print("%d targets, %d problems" % (len(rows), len(problems)))
sys.exit(1 if problems else 0)
