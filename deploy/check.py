#!/usr/bin/env python3
"""Checks deploy/: the alert rules (promtool check rules, promtool test rules) and the Grafana
dashboard (valid JSON, a tier variable, every panel with a query), and that every metric the
alerts and the dashboard query is one policy/host/host_metrics.cc exports, so neither can go
stale without failing. usage: deploy/check.py REPO_DIR"""
import json
import os
import re
import subprocess
import sys

repo = os.path.abspath(sys.argv[1])
deploy = os.path.join(repo, "deploy")
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


source = open(os.path.join(repo, "policy/host/host_metrics.cc")).read()
exported = set(re.findall(r'\.Name\("([a-z_]+)"\)', source))
check(len(exported) >= 15, f"metric names found in host_metrics.cc: {sorted(exported)}")
histograms = {n for n in exported if "duration" in n}
known = exported | {h + s for h in histograms for s in ("_bucket", "_sum", "_count")}


def metrics_of(expr):
    """The metric names in a PromQL expression: warden's all start extism_ or plugin_ (the
    label plugin_id does too, and is not one)."""
    return set(re.findall(r"\b((?:extism|plugin)_[a-z_]+)\b", expr)) - {"plugin_id"}


for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
    r = subprocess.run(["promtool"] + args, cwd=os.path.join(deploy, "prometheus"),
                       capture_output=True, text=True)
    check(r.returncode == 0, f"promtool {' '.join(args)}: {r.stdout}{r.stderr}")

alerts = open(os.path.join(deploy, "prometheus/alerts.yml")).read()
for expr in re.findall(r"expr: >-\n((?:\s{10}.*\n)+)|expr: (.*)", alerts):
    text = expr[0] or expr[1]
    for m in metrics_of(text):
        check(m in known, f"alerts.yml queries {m}, which warden does not export")

board = json.load(open(os.path.join(deploy, "grafana/warden.json")))
names = [v["name"] for v in board["templating"]["list"]]
check("tier" in names, "the dashboard has a tier variable")
check(len(board["panels"]) >= 6, "the dashboard has its panels")
for p in board["panels"]:
    check(p.get("targets"), f"panel {p.get('title')} has queries")
    for t in p.get("targets", []):
        for m in metrics_of(t["expr"]):
            check(m in known, f"panel {p['title']} queries {m}, which warden does not export")

if failures:
    sys.exit(f"deploy: {len(failures)} checks failed")
print(f"deploy: all checks passed ({len(exported)} metrics exported)")
