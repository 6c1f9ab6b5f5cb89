#!/usr/bin/env python3
"""Prints what a Kubernetes manifest gives the oomwatch container, as one JSON
object: the DaemonSet's hostPath volumes with where the container mounts them,
the added capabilities, the container's args, the pod annotations and
hostPID, and the oomwatch.toml of its ConfigMap. Used by tests/unit/test_deploy.cpp. Usage: manifest-summary.py FILE"""
import json
import sys

import yaml


def main(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    ds = [d for d in docs if d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        sys.exit(f"{path}: want one DaemonSet, found {len(ds)}")
    pod = ds[0]["spec"]["template"]
    spec = pod["spec"]
    host = {v["name"]: v["hostPath"]["path"] for v in spec.get("volumes", []) if "hostPath" in v}
    ctr = [c for c in spec["containers"] if c["name"] == "oomwatch"]
    if len(ctr) != 1:
        sys.exit(f"{path}: want one container named oomwatch")
    c = ctr[0]
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    config = ""
    for d in docs:
        if d.get("kind") == "ConfigMap" and "oomwatch.toml" in d.get("data", {}):
            config = d["data"]["oomwatch.toml"]
    out = {
        "config": config,
        "host_paths": {host[n]: mounts.get(n, "") for n in host},
        "capabilities": c.get("securityContext", {}).get("capabilities", {}).get("add", []),
        "args": c.get("args", []),
        "annotations": pod.get("metadata", {}).get("annotations", {}),
        "host_pid": spec.get("hostPID", False),
        "privileged": c.get("securityContext", {}).get("privileged", False),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
