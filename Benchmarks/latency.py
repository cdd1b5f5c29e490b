#!/usr/bin/env python3
"""Offers single events at a fixed rate and reports ingest-to-receipt latency.

Sends RATE events/s for SECONDS over keep-alive connections, noting when each
was sent, and receives their deliveries itself (the daemon's `probe`
endpoint points here), noting when each arrived, in microseconds. Prints
p50/p99/max of (receipt - send). Its own HTTP parsing, and waits for the
interpreter lock, are in the figures, so they err on the high side.

  latency.py HERALD_PORT PROBE_PORT RATE SECONDS PREFIX
"""
import http.client, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Sender and receiver share one interpreter lock, which a running thread
# keeps for up to the switch interval (5 ms by default): that would show up
# as latency. Hand it over every 0.1 ms instead.
sys.setswitchinterval(0.0001)

herald_port, probe_port, rate, seconds, prefix = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                                   float(sys.argv[4]), sys.argv[5])
threads = 4
sent, received = {}, {}
lock = threading.Lock()
total = int(rate * seconds)


class Probe(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        now = time.time()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            received.setdefault(self.path.rsplit("/", 1)[-1], now)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", probe_port), Probe)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
start = time.time() + 0.2


def sender(index):
    conn = http.client.HTTPConnection("127.0.0.1", herald_port)
    for n in range(index, total, threads):
        delay = start + n / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        event_id = f"{prefix}-{n}"
        body = ('{"id":"%s","name":"Latency","level":"Critical","object_id":"%s","labels":{"bench":"latency"}}'
                % (event_id, event_id))
        t = time.time()
        conn.request("POST", "/api/v1/events", body, {"Authorization": "Bearer bench-token"})
        conn.getresponse().read()
        with lock:
            sent[event_id] = t


workers = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
behind = time.time() - (start + seconds)
deadline = time.time() + 30
while time.time() < deadline:
    with lock:
        if len(received) >= total:
            break
    time.sleep(0.1)
server.shutdown()
with lock:
    lat = sorted((received[k] - sent[k]) * 1000 for k in sent if k in received)
if not lat:
    print(f"  offered {rate} events/s: nothing received"); sys.exit(1)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"  offered {rate} events/s for {seconds:.0f} s: received {len(lat)}/{total}, "
      f"ingest-to-receipt p50 {pick(0.50):.2f} ms, p99 {pick(0.99):.2f} ms, max {lat[-1]:.2f} ms"
      f"{'' if behind < 0.5 else f' (sender fell {behind:.1f} s behind)'}")
