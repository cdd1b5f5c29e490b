#!/usr/bin/env python3
"""Offers single events at a fixed rate and reports ingest-to-receipt latency.

Sends RATE events/s for SECONDS over keep-alive connections, noting when each
was sent; the receiver (nginx) logs "$msec $uri" for each delivery, the URI
ending in the event id. Prints p50/p99/max of (receipt - send).
"""
import http.client, sys, threading, time

host, port, rate, seconds, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
prefix = sys.argv[6]
threads = 4
sent = {}
lock = threading.Lock()
start = time.time() + 0.2
total = int(rate * seconds)

def worker(index):
    conn = http.client.HTTPConnection(host, port)
    for n in range(index, total, threads):
        due = start + n / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        event_id = f"{prefix}-{n}"
        body = '{"id":"%s","name":"Latency","level":"Critical","object_id":"%s"}' % (event_id, event_id)
        t = time.time()
        conn.request("POST", "/api/v1/events", body, {"Authorization": "Bearer bench-token"})
        conn.getresponse().read()
        with lock:
            sent[event_id] = t

ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
late = time.time() - (start + seconds)
deadline = time.time() + 30
received = {}
while time.time() < deadline:
    received = {}
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1].rsplit("/", 1)[-1].startswith(prefix + "-"):
                received.setdefault(parts[1].rsplit("/", 1)[-1], float(parts[0]))
    if len(received) >= total:
        break
    time.sleep(0.2)
lat = sorted((received[k] - sent[k]) * 1000 for k in sent if k in received)
if not lat:
    print(f"  {rate}/s: nothing received"); sys.exit(1)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"  offered {rate} events/s for {seconds:.0f} s: received {len(lat)}/{total}, "
      f"latency p50 {pick(0.50):.2f} ms, p99 {pick(0.99):.2f} ms, max {lat[-1]:.2f} ms"
      f"{'' if late < 0.5 else f' (sender fell {late:.1f} s behind)'}")
