#!/usr/bin/env python3
"""Time-compresses a sample file `oomwatch collect --out FILE.csv` wrote.

    rescale.py IN.csv OUT.csv FACTOR NAME

Every timestamp becomes BASE + (ts - first ts) x FACTOR (whole seconds,
RFC 3339), the cgroup path becomes /trace/NAME, and only the columns a
backtest reads are kept (the others are optional on read): ts, cgroup,
cgroup_id, usage_bytes, limit_bytes, ev_oom_kill, inactive_file_bytes,
working_set_bytes. The figures are left as recorded.
"""
import csv
import datetime
import sys

BASE = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)  # a Monday, 00:00 UTC
KEEP = ["ts", "cgroup", "cgroup_id", "usage_bytes", "limit_bytes", "ev_oom_kill",
        "inactive_file_bytes", "working_set_bytes"]


def parse_ts(text):
    if text.isdigit():
        return int(text) * 10**9
    main, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def main():
    src, dst, factor, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"rescale.py: no samples in {src}")
    t0 = parse_ts(rows[0]["ts"])
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(KEEP)
        for r in rows:
            secs = (parse_ts(r["ts"]) - t0) * factor // 10**9
            r["ts"] = (BASE + datetime.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%SZ")
            r["cgroup"] = "/trace/" + name
            w.writerow([r[k] for k in KEEP])


if __name__ == "__main__":
    main()
