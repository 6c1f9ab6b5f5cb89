#!/usr/bin/env bash
# The `rules` tier: the operator's kit without a live agent. promtool checks
# deploy/prometheus/oomwatch-rules.yml and runs its unit tests
# (oomwatch-rules.test.yml: each alert fires on its input and stays silent on
# a near miss); the Grafana dashboard deploy/grafana/oomwatch.json is valid
# JSON whose panels all use the datasource variable, whose variables are
# defined, and every query of which parses as PromQL (promtool checks it as a
# recording rule). The live half, every panel's query returning data from an
# agent that has just handled a real OOM kill and a real rescue, is
# tests/integration/test_operator_kit.cpp. Ends with the line tests/run.sh
# reads: "rules: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d /tmp/owtest-rules-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() {  # check <what> <command...>: the command's output is shown when it fails
  local what=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1))
    echo "ok: $what"
  else
    failed=$((failed + 1))
    echo "FAILED: $what"
    sed 's/^/    /' "$tmp/out"
  fi
}
if ! command -v promtool >/dev/null; then
  echo "rules: promtool is not installed (Debian's prometheus package; tools/install-deps.sh installs it)"
  echo "rules: 0 passed, 1 failed"
  exit 1
fi
rules=deploy/prometheus/oomwatch-rules.yml
dash=deploy/grafana/oomwatch.json
check "promtool check rules $rules" promtool check rules "$rules"
check "promtool test rules (each alert fires, each near miss is silent)" \
  promtool test rules deploy/prometheus/oomwatch-rules.test.yml
# The dashboard: structure checked in Python (JSON, datasource variable,
# variables defined, no overlapping panels), then each query, Grafana's
# variables replaced by sample values, as a recording rule for promtool.
check "dashboard: valid JSON, datasource variable on every panel and query, variables defined, no overlap" \
  python3 - "$dash" "$tmp/queries.yml" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
errors = []
variables = {v["name"] for v in d["templating"]["list"]}
builtin = {"__rate_interval", "__interval", "__range"}
cells = {}
queries = []
for p in d["panels"]:
    t = p.get("title", "?")
    if p["type"] == "row":
        continue
    if p.get("datasource", {}).get("uid") != "${datasource}":
        errors.append(f"{t}: panel datasource is not ${{datasource}}")
    if not p.get("targets"):
        errors.append(f"{t}: no query")
    for q in p.get("targets", []):
        if q.get("datasource", {}).get("uid") != "${datasource}":
            errors.append(f"{t}: query {q.get('refId')} datasource is not ${{datasource}}")
        e = q.get("expr", "")
        for v in re.findall(r"\$\{?(\w+)", e + " " + t):
            if v not in variables and v not in builtin:
                errors.append(f"{t}: ${v} is not a dashboard variable")
        queries.append((t, e))
    g = p["gridPos"]
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            if (x, y) in cells:
                errors.append(f"{t}: overlaps {cells[(x, y)]}")
                break
            cells[(x, y)] = t
        else:
            continue
        break
sample = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h", "$instance": "n1:9721",
          "$cgroup": "/kubepods/pod1/c1"}
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (t, e) in enumerate(queries):
        for k, v in sample.items():
            e = e.replace(k, v)
        f.write(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(e)}\n")
for e in errors:
    print(e)
print(f"{len(queries)} queries in {sum(p['type'] != 'row' for p in d['panels'])} panels")
sys.exit(1 if errors else 0)
PY
check "dashboard: every query parses as PromQL" promtool check rules "$tmp/queries.yml"
echo "rules: $passed passed, $failed failed"
((failed == 0))
