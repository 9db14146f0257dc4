#!/usr/bin/env python3
"""The editor grammars, tested without an editor.

Usage: test_editors.py SOURCE_ROOT

- editors/vscode: package.json and the TextMate grammar are valid JSON; every
  example and golden policy tokenizes with the grammar's patterns (applied like
  a TextMate engine: at each position the first pattern that matches there
  wins; strings run from their quote to the closing quote) with no character
  left without a scope and no `invalid` scope; a sample line gets the scopes
  a reader expects.
- Both grammars know every keyword of the compiler's grammar
  (dsl/dockpol/dsl/grammar.hpp): a new keyword fails this test until the
  editors learn it.
Prints `ok`/`FAIL` lines and exits 1 on any failure.
"""
import glob
import json
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
failures = []


def check(name, ok, detail=""):
    print(("ok   - " if ok else "FAIL - ") + name + ("" if ok else "\n       " + detail))
    if not ok:
        failures.append(name)


def load_json(rel):
    with open(os.path.join(root, rel)) as f:
        return json.load(f)


pkg = load_json("editors/vscode/package.json")
grammar = load_json("editors/vscode/syntaxes/dpol.tmLanguage.json")
check("package.json names the grammar file",
      pkg["contributes"]["grammars"][0]["path"] == "./syntaxes/dpol.tmLanguage.json"
      and pkg["contributes"]["languages"][0]["extensions"] == [".dpol"])
check("package.json names its language configuration",
      os.path.exists(os.path.join(root, "editors/vscode", pkg["contributes"]["languages"][0]["configuration"])))

repo = grammar["repository"]
patterns = []
for inc in grammar["patterns"]:
    key = inc["include"].lstrip("#")
    patterns.append((key, repo[key]))


def tokenize(line):
    """[(text, scope)] for one line, plus the characters no pattern covered."""
    out, uncovered, pos = [], [], 0
    while pos < len(line):
        if line[pos] in " \t\r":
            pos += 1
            continue
        for key, p in patterns:
            if "begin" in p:
                m = re.compile(p["begin"]).match(line, pos)
                if not m:
                    continue
                end = re.compile(p["end"])
                j = m.end()
                inner = [(re.compile(q["match"]), q["name"]) for q in p.get("patterns", [])]
                while j < len(line):
                    hit = next(((r.match(line, j), n) for r, n in inner if r.match(line, j)), None)
                    if hit:
                        out.append((hit[0].group(0), hit[1]))
                        j = hit[0].end()
                        continue
                    if end.match(line, j):
                        break
                    j += 1
                e = end.match(line, j)
                stop = e.end() if e and e.end() > j else j
                out.append((line[pos:stop], p["name"]))
                pos = max(stop, pos + 1)
                break
            m = re.compile(p["match"]).match(line, pos)
            if not m or m.end() == pos:
                continue
            if "captures" in p:
                for k, cap in p["captures"].items():
                    if m.group(int(k)) is not None:
                        out.append((m.group(int(k)), cap["name"]))
            else:
                out.append((m.group(0), p["name"]))
            pos = m.end()
            break
        else:
            uncovered.append((pos, line[pos]))
            pos += 1
    return out, uncovered


policies = sorted(glob.glob(os.path.join(root, "examples/policies/*.dpol")) +
                  glob.glob(os.path.join(root, "tests/golden/*/*.dpol")))
check("there are policies to tokenize", len(policies) >= 10, str(len(policies)))
for path in policies:
    rel = os.path.relpath(path, root)
    # Golden diagnostics files are wrong on purpose: their invalid escapes may show as invalid.
    expect_valid = not rel.startswith("tests/golden/diag/")
    bad, invalid = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            toks, unc = tokenize(line.rstrip("\n"))
            bad += [f"{n}:{c + 1} {ch!r}" for c, ch in unc]
            invalid += [f"{n}: {t!r}" for t, s in toks if s.startswith("invalid")]
    check(f"{rel}: every character has a scope", not bad or not expect_valid, ", ".join(bad[:5]))
    if expect_valid:
        check(f"{rel}: no invalid scope", not invalid, ", ".join(invalid[:5]))

sample = 'rule devs_own: allow own if resource.owner == user and action in {"container_list"} # mine'
toks, unc = tokenize(sample)
scopes = {t: s for t, s in toks}
want = {
    "rule": "keyword.declaration.rule.dpol",
    "devs_own": "entity.name.function.rule.dpol",
    "allow": "keyword.control.dpol",
    "own": "keyword.control.dpol",
    "if": "keyword.control.dpol",
    "resource.owner": "variable.other.field.dpol",
    "==": "keyword.operator.comparison.dpol",
    "user": "variable.other.field.dpol",
    "and": "keyword.operator.word.dpol",
    "in": "keyword.operator.word.dpol",
    '"container_list"': "string.quoted.double.dpol",
    "# mine": "comment.line.number-sign.dpol",
}
check("sample rule: each token gets its scope", not unc and all(scopes.get(k) == v for k, v in want.items()),
      str({k: scopes.get(k) for k, w in want.items() if scopes.get(k) != w}))
toks, _ = tokenize('owner label "dockpol.owner"')
check("owner label is one statement keyword", toks and toks[0] == ("owner label", "keyword.other.statement.dpol"),
      str(toks))
toks, _ = tokenize('    deny if query.all == "1" and host.labels.data-center matches "eu-*"')
check("keywords after a dot are field segments", ("query.all", "variable.other.field.dpol") in toks
      and ("host.labels.data-center", "variable.other.field.dpol") in toks, str(toks))

# ---- every keyword of the compiler's grammar is known to both editors
with open(os.path.join(root, "dsl/dockpol/dsl/grammar.hpp")) as f:
    words = sorted(set(re.findall(r'TAO_PEGTL_STRING\( "([a-z]+)" \)', f.read())))
check("the compiler grammar has keywords", len(words) >= 20, str(words))
tm_text = json.dumps(grammar)
missing_tm = [w for w in words if not re.search(r"(?<![a-z])" + w + r"(?![a-z])", tm_text)]
check("the TextMate grammar knows every keyword", not missing_tm, str(missing_tm))
with open(os.path.join(root, "editors/vim/syntax/dpol.vim")) as f:
    vim = f.read()
vim_words = set()
for line in vim.splitlines():
    if line.startswith("syn keyword"):
        vim_words.update(line.split()[3:])
    elif line.startswith("syn match   dpolStatement"):
        vim_words.update(re.findall(r"[a-z]+", line.split('"')[1]))
missing_vim = [w for w in words if w not in vim_words]
check("the Vim syntax knows every keyword", not missing_vim, str(missing_vim))

# ---- Vim itself, when installed: the groups it gives to a sample's tokens
import shutil
import subprocess
import tempfile
vim_bin = shutil.which("vim")
if vim_bin:
    with tempfile.TemporaryDirectory() as tmp:
        sample_path = os.path.join(tmp, "s.dpol")
        out_path = os.path.join(tmp, "groups.txt")
        with open(sample_path, "w") as f:
            f.write('owner label "dockpol.owner"\nlet x = {"a"}\n'
                    'rule devs_own: allow own if resource.owner == user and x matches "b*" # c\n')
        probes = {"owner label": "dpolStatement", "devs_own": "dpolRuleName", "allow": "dpolEffect",
                  "own if": "dpolEffect", "==": "dpolComparison", '"a"': "dpolString", "matches": "dpolOperator",
                  "# c": "dpolComment"}
        vim_list = "[" + ",".join(json.dumps(p) for p in probes) + "]"
        r = subprocess.run([vim_bin, "-Es", "-u", "NONE", "-N", "-i", "NONE",
                            "-c", "let g:syn=" + json.dumps(os.path.join(root, "editors/vim/syntax/dpol.vim")),
                            "-c", "let g:out=" + json.dumps(out_path), "-c", "let g:probes=" + vim_list,
                            "-c", "source " + os.path.join(root, "tests/editors/vim_probe.vim"), sample_path],
                           capture_output=True, text=True, timeout=60)
        got = {}
        if os.path.exists(out_path):
            for line in open(out_path):
                k, _, v = line.rstrip("\n").partition("\t")
                got[k] = v
        check("vim: the syntax file loads and gives each token its group", got == probes,
              f"rc {r.returncode} {r.stderr[-300:]} got {got}")
else:
    print("note - vim is not installed: the Vim syntax was checked by its keyword list only")

print(f"editors: {len(failures)} failed")
sys.exit(1 if failures else 0)
