#!/usr/bin/env python3
"""Watches a topic's end offsets (kcat -Q, every 0.1 s) while records arrive
and prints how many arrived and at what rate, from the first growth to the
last. kcat's consumer stops early on the mock cluster's larger topics, so the
offsets are the count. Gives up 120 s after it starts.
Usage: kafka_rate.py BROKERS TOPIC PARTITIONS"""
import subprocess
import sys
import time

brokers, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])


def stored():
    arguments = [a for p in range(partitions) for a in ("-t", f"{topic}:{p}:-1")]
    out = subprocess.run(["kcat", "-Q", "-b", brokers] + arguments, capture_output=True, text=True).stdout
    return sum(int(line.split()[-1]) for line in out.splitlines() if "offset" in line)


deadline = time.time() + 120
first = last = None
count, quiet = 0, 0
while quiet < 20 and time.time() < deadline:  # until two seconds without growth
    time.sleep(0.1)
    now, total = time.time(), stored()
    if total > count:
        first, last, count, quiet = first or now, now, total, 0
    elif count:
        quiet += 1
if count and last > first:
    print(f"{count} records in the topic, {count / (last - first):.0f} deliveries/s "
          f"(first to last growth of its offsets, polled every 0.1 s)")
else:
    print(f"{count} records in the topic")
