#!/usr/bin/env python3
"""Reads one receipt per line, "TIME" or "TIME<TAB>ID" (TIME in epoch
milliseconds or RFC 3339), and prints how many arrived, how many repeated an
id, and the rate from first to last receipt.
Usage: receipt_rate.py < receipts"""
import sys
from datetime import datetime


def seconds(text):
    try:
        return float(text) / 1000.0
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


times, ids = [], []
for line in sys.stdin:
    if line.strip():
        fields = line.rstrip("\n").split("\t")
        times.append(seconds(fields[0].strip()))
        if len(fields) > 1:
            ids.append(fields[1])
times.sort()
repeats = f", {len(ids) - len(set(ids))} repeated" if ids else ""
if len(times) < 2:
    print(f"{len(times)} delivered{repeats}")
else:
    span = times[-1] - times[0]
    print(f"{len(times)} delivered{repeats} in {span:.2f} s from first to last receipt: "
          f"{(len(times) - 1) / span:.0f} deliveries/s")
