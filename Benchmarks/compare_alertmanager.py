#!/usr/bin/env python3
"""Herald against Alertmanager on Alertmanager's own API, side by side.

Both servers get the same alerts on POST /api/v2/alerts, shaped as Prometheus
sends them (startsAt, endsAt four minutes on), and send one notification per
alert to the same receiver (webhook_receiver.py, in its own
process), which notes each alert's first arrival. Alertmanager (Debian's
prometheus-alertmanager, state in memory) groups by every label with no
wait, so each alert is its own notification; Herald (release build, the HTTP
channel, defaults otherwise) stores each alert durably before answering.
Every phase starts a fresh server and receiver; the order of the servers
alternates from phase to phase. Prints each figure for both and the ratio.

Phases:
  burst100  wrk, 100 alerts per request, 8 connections, for SECONDS/2;
            end to end = alerts delivered / (last receipt - first post)
  burst1    wrk, one alert per request, 16 connections, likewise
  rate200   200 alerts/s offered for SECONDS, one per request, open loop
  rate1000  1,000 alerts/s; latency = receipt - scheduled send time
CPU is the server's user + system time over the phase (its children
included); RSS is its peak (VmHWM). PHASES="burst1 ..." runs only those,
HERALD_ONLY=1 leaves Alertmanager out (no table then). With PROFILE=PHASE (needs linux-perf),
Herald is perf-recorded during that phase and its top entries printed.

  floor     (after the table) what any server pays here before it does
            anything with an alert: GET /-/healthy on each server (wrk with
            16 connections, and paced at 200 and 1,000/s), the receiver's and
            wrk's CPU per request, and one webhook sent through libcurl
            (curl_floor.c, built with cc); then what those leave of each goal

  compare_alertmanager.py HERALD PLUGIN_DIR SECONDS WORKDIR [DURABILITY ...]
"""
import http.client, os, re, shutil, subprocess, sys, threading, time

herald, plugin_dir, seconds, work = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
durabilities = sys.argv[5:] or ["process"]
SERVER_PORT, RECEIVER_PORT = 18180, 18190
HERE = os.path.dirname(os.path.abspath(__file__))
TICKS = os.sysconf("SC_CLK_TCK")


def get(port, path):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, answer.read()
    except OSError:
        return None, b""


def wait_until(predicate, what, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what} did not come up within {limit} s")


class Receiver:
    def __init__(self, phase):
        self.out = os.path.join(work, f"receipts-{phase}")
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "webhook_receiver.py"),
                                         str(RECEIVER_PORT), self.out])
        wait_until(lambda: get(RECEIVER_PORT, "/count")[0] == 200, "the receiver")

    def count(self):
        return int(get(RECEIVER_PORT, "/count")[1] or 0)

    def stop(self):
        self.process.terminate()
        self.process.wait()
        with open(self.out) as file:
            return {seq: float(at) for seq, at in (line.split() for line in file)}


class Server:
    def cpu_seconds(self):
        total = 0
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        for pid in [str(self.process.pid)] + children:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total / TICKS

    def peak_rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            return int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) / 1024

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Alertmanager(Server):
    name = "Alertmanager"

    def __init__(self):
        folder = os.path.join(work, "alertmanager")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        config = os.path.join(folder, "alertmanager.yml")
        with open(config, "w") as file:
            file.write(f"""route:
  receiver: hook
  group_by: ['...']
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:{RECEIVER_PORT}/
    send_resolved: false
""")
        self.process = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={config}", f"--storage.path={folder}",
             f"--web.listen-address=127.0.0.1:{SERVER_PORT}", "--cluster.listen-address=", "--log.level=warn"],
            stderr=open(os.path.join(folder, "log"), "w"))
        wait_until(lambda: get(SERVER_PORT, "/-/ready")[0] == 200, "Alertmanager")


class Herald(Server):
    def __init__(self, durability):
        self.name = f"Herald ({durability})"
        folder = os.path.join(work, "herald")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        config = os.path.join(folder, "herald.yaml")
        with open(config, "w") as file:
            file.write(f"""server: {{host: 127.0.0.1, port: {SERVER_PORT}}}
storage: {{path: {folder}/herald.sqlite, durability: {durability}}}
plugins: {{directories: [{plugin_dir}]}}
teams: [{{name: bench, tokens: [bench-token]}}]
endpoints: [{{name: hook, team: bench, channel: http, config: {{url: 'http://127.0.0.1:{RECEIVER_PORT}/'}}}}]
policies: [{{name: all, team: bench, endpoints: [hook]}}]
""")
        self.process = subprocess.Popen([herald, "serve", "--config", config, "--log-level", "warning"],
                                        stderr=open(os.path.join(folder, "log"), "w"))
        wait_until(lambda: get(SERVER_PORT, "/-/ready")[0] == 200, "Herald")


def settle(receiver, expected):
    """Waits until every expected alert arrived, or none arrived for 5 s."""
    last, still_since = -1, time.time()
    while time.time() - still_since < 5:
        count = receiver.count()
        if count >= expected:
            return
        if count != last:
            last, still_since = count, time.time()
        time.sleep(0.1)


def burst(server, receiver, per_request, connections):
    env = dict(os.environ, BATCH=str(per_request), FORMAT="alertmanager")
    started = time.time()
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds / 2))}s",
                          "-s", os.path.join(HERE, "events.lua"), f"http://127.0.0.1:{SERVER_PORT}"],
                         env=env, capture_output=True, text=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    refused = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    accepted = (requests - refused) * per_request
    settle(receiver, accepted)
    return started, accepted, refused


def paced(rate, total, send, threads=8):
    """Calls send(conn, n, at) for n in 0..total-1, each at its scheduled time
    `at` (open loop), from `threads` keep-alive connections to the server."""
    start = time.time() + 0.2

    def sender(index):
        conn = http.client.HTTPConnection("127.0.0.1", SERVER_PORT)
        for n in range(index, total, threads):
            at = start + n / rate
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            send(conn, n, at)

    workers = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return start


def offered(server, receiver, rate):
    """Sends `rate` alerts/s, one per request, each at its scheduled time."""
    scheduled, refused = {}, []

    def send(conn, n, at):
        seq = f"r{rate}-{n}"
        # As Prometheus sends it: when the alert began, and until when it holds.
        body = ('[{"labels":{"alertname":"Latency","severity":"critical","seq":"%s"},'
                '"annotations":{"summary":"benchmark alert"},"startsAt":"%s","endsAt":"%s"}]'
                % (seq, iso(at), iso(at + 240)))
        conn.request("POST", "/api/v2/alerts", body,
                     {"Authorization": "Bearer bench-token", "Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.status // 100 == 2:
            scheduled[seq] = at
        else:
            refused.append(answer.status)

    start = paced(rate, int(rate * seconds), send)
    settle(receiver, len(scheduled))
    return start, scheduled, len(refused)


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(data):
    """Where the profiled server's time went: by shared object, then by symbol."""
    for sort, count in (("dso", 12), ("symbol", 40)):
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio", "-g", "none"],
                             capture_output=True, text=True).stdout
        print(f"  profile by {sort}:")
        for line in [l for l in out.splitlines() if re.match(r"^ +[0-9]", l)][:count]:
            print("   " + line[:150])


def run(phase, make_server):
    receiver = Receiver(phase)
    server = make_server()
    cpu_before = server.cpu_seconds()
    profiler = None
    if os.environ.get("PROFILE") == phase and isinstance(server, Herald):
        profiler = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", os.path.join(work, "perf.data"),
                                     "-p", str(server.process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if phase.startswith("burst"):
        per, connections = (100, 8) if phase == "burst100" else (1, 16)
        started, accepted, refused = burst(server, receiver, per, connections)
        scheduled = None
    else:
        started, scheduled, refused = offered(server, receiver, int(phase[4:]))
        accepted = len(scheduled)
    cpu = server.cpu_seconds() - cpu_before
    rss = server.peak_rss_mb()
    if profiler:
        profiler.send_signal(2)
        profiler.wait()
    server.stop()
    if profiler:
        report(os.path.join(work, "perf.data"))
    receipts = receiver.stop()
    last = max(receipts.values(), default=started)
    result = {"server": server.name, "accepted": accepted, "delivered": len(receipts), "refused": refused,
              "rate": len(receipts) / max(last - started, 1e-9), "cpu": cpu, "rss": rss,
              "cpu_per_alert_us": cpu * 1e6 / max(len(receipts), 1), "wall": max(last - started, 1e-9)}
    if scheduled is not None:
        latencies = [(receipts[seq] - at) * 1000 for seq, at in scheduled.items() if seq in receipts]
        result.update(p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99), max=max(latencies, default=0),
                      cpu_share=cpu / max(last - started, 1e-9) * 100)
    print(f"  {phase:9} {server.name:20} {len(receipts)} of {accepted} delivered ({refused} refused), "
          f"{result['rate']:.0f} alerts/s end to end, {result['cpu_per_alert_us']:.0f} us CPU per alert, "
          f"peak RSS {rss:.0f} MB"
          + (f", latency p50 {result['p50']:.1f} / p99 {result['p99']:.1f} / max {result['max']:.1f} ms, "
             f"CPU {result['cpu_share']:.0f} % of a core" if scheduled is not None else ""), flush=True)
    return result


def wrk_cpu(url, connections, script=None, env=None):
    """Runs wrk for SECONDS/2; its requests and its own CPU seconds."""
    before = os.times()
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds / 2))}s"] + (["-s", script] if script else [])
    out = subprocess.run(command + [url], env=env, capture_output=True, text=True).stdout
    after = os.times()
    return int(re.search(r"(\d+) requests in", out).group(1)), \
        (after.children_user - before.children_user) + (after.children_system - before.children_system)


def floors(servers):
    """What any server pays on this machine before it does anything with an
    alert: a request that does nothing (GET /-/healthy) on each server's HTTP
    stack, the receiver's and wrk's CPU per request, and one webhook sent
    through libcurl, the library Herald's HTTP channel sends with
    (curl_floor.c, alone in its process). Returns the figures by name."""
    figures = {}
    for key, make in servers:
        server = make()
        before = server.cpu_seconds()
        requests, _ = wrk_cpu(f"http://127.0.0.1:{SERVER_PORT}/-/healthy", 16)
        figures[(key, "get_burst_us")] = (server.cpu_seconds() - before) * 1e6 / requests
        for rate in (200, 1000):
            latencies = []

            def send(conn, n, at):
                conn.request("GET", "/-/healthy")
                conn.getresponse().read()
                latencies.append((time.time() - at) * 1000)
            before = server.cpu_seconds()
            paced(rate, int(rate * seconds), send)
            figures[(key, f"get_{rate}_us")] = (server.cpu_seconds() - before) * 1e6 / (rate * seconds)
            figures[(key, f"get_{rate}_p99")] = percentile(latencies, 0.99)
        server.stop()
    receiver = Receiver("floor")
    pid = str(receiver.process.pid)

    def receiver_cpu():
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    before = receiver_cpu()
    requests, wrk_seconds = wrk_cpu(f"http://127.0.0.1:{RECEIVER_PORT}/", 16, os.path.join(HERE, "events.lua"),
                                    dict(os.environ, BATCH="1", FORMAT="alertmanager"))
    figures["receiver_us"] = (receiver_cpu() - before) * 1e6 / requests
    figures["wrk_us"] = wrk_seconds * 1e6 / requests
    sender = os.path.join(work, "curl_floor")
    subprocess.run(["cc", "-O2", "-o", sender, os.path.join(HERE, "curl_floor.c"), "-lcurl", "-lm"], check=True)
    for label, rate in (("burst", []), ("1000", ["1000"]), ("200", ["200"])):
        out = subprocess.run([sender, f"http://127.0.0.1:{RECEIVER_PORT}/", "16", str(seconds if rate else seconds / 2)]
                             + rate, capture_output=True, text=True, check=True).stdout
        figures[f"curl_{label}_us"] = float(re.search(r"([\d.]+) us CPU per request", out).group(1))
        if rate:
            figures[f"curl_{label}_p99"] = float(re.search(r"p99 ([\d.]+) ms", out).group(1))
    receiver.stop()
    return figures


def print_floors(figures, durability):
    """The floors, and what they leave of each goal."""
    herald = durability
    print()
    print("What this machine allows (a request that does nothing, one webhook through libcurl):")
    print("| floor | Alertmanager | Herald |")
    print("|---|---|---|")
    for title, name in (("GET /-/healthy, 16 connections, CPU per request (us)", "get_burst_us"),
                        ("GET /-/healthy at 1,000/s, CPU per request (us)", "get_1000_us"),
                        ("GET /-/healthy at 200/s, p99 (ms)", "get_200_p99"),
                        ("GET /-/healthy at 1,000/s, p99 (ms)", "get_1000_p99")):
        print(f"| {title} | {figures[('am', name)]:,.1f} | {figures[(herald, name)]:,.1f} |")
    print(f"receiver {figures['receiver_us']:.1f} us and wrk {figures['wrk_us']:.1f} us of CPU per request; "
          f"one webhook through libcurl: {figures['curl_burst_us']:.1f} us in a burst, "
          f"{figures['curl_1000_us']:.1f} us at 1,000/s (p99 {figures['curl_1000_p99']:.2f} ms), "
          f"p99 {figures['curl_200_p99']:.2f} ms at 200/s")
    # A server that parsed nothing, stored nothing and only answered and forwarded each alert.
    per_alert = figures[(herald, "get_burst_us")] + figures["curl_burst_us"]
    ceiling = (os.cpu_count() or 1) * 1e6 / (per_alert + figures["receiver_us"] + figures["wrk_us"])
    print(f"A Herald that only answered and forwarded, 1 alert/request: {per_alert:.0f} us CPU per alert; "
          f"with the receiver and wrk on the same {os.cpu_count()} cores at most {ceiling:,.0f} alerts/s")
    if ("burst1", "am") in results:
        print(f"  goal 4x Alertmanager = {4 * results[('burst1', 'am')]['rate']:,.0f} alerts/s; "
              f"goal CPU per alert <= {results[('burst1', 'am')]['cpu_per_alert_us'] / 2:.0f} us")
    if ("rate1000", "am") in results:
        floor_1000 = figures[(herald, "get_1000_us")] + figures["curl_1000_us"]
        print(f"  at 1,000/s: answering and forwarding alone {floor_1000:.0f} us CPU per alert; "
              f"goal <= {results[('rate1000', 'am')]['cpu_per_alert_us'] / 2:.0f} us")
    if ("rate200", "am") in results:
        print(f"  at 200/s: p99 of a request that does nothing {figures[(herald, 'get_200_p99')]:.2f} ms and of a webhook "
              f"{figures['curl_200_p99']:.2f} ms; goal p99 <= {results[('rate200', 'am')]['p99'] / 2:.2f} ms")


phases = os.environ.get("PHASES", "burst100 burst1 rate200 rate1000 floor").split()
servers = ([] if os.environ.get("HERALD_ONLY") else [("am", Alertmanager)]) \
    + [(d, lambda d=d: Herald(d)) for d in durabilities]
results = {}
measured = [phase for phase in phases if phase != "floor"]
for index, phase in enumerate(measured):
    order = servers if index % 2 == 0 else servers[::-1]
    for key, make in order:
        results[(phase, key)] = run(phase, make)
# Alertmanager and the first durability only: the floors do not depend on durability.
floor_figures = floors(servers[:2]) if "floor" in phases and not os.environ.get("HERALD_ONLY") else None

if floor_figures and len(measured) < 4:
    print_floors(floor_figures, durabilities[0])
if len(measured) < 4 or os.environ.get("HERALD_ONLY"):
    sys.exit(0)
rows = [
    ("100 alerts/request, end to end (alerts/s)", "burst100", "rate", "higher", 4),
    ("1 alert/request, 16 connections (alerts/s)", "burst1", "rate", "higher", 4),
    ("p99 post to receipt at 200/s (ms)", "rate200", "p99", "lower", 0.5),
    ("p99 post to receipt at 1,000/s (ms)", "rate1000", "p99", "lower", 0.5),
    ("CPU at 1,000/s (% of a core)", "rate1000", "cpu_share", "lower", 0.5),
    ("CPU per alert, 1 alert/request (us)", "burst1", "cpu_per_alert_us", "lower", 0.5),
]
head = "| figure | Alertmanager | " + " | ".join(f"Herald ({d}) | ratio" for d in durabilities) + " | goal |"
print()
print(head)
print("|" + "---|" * (head.count("|") - 1))
for title, phase, field, better, goal in rows:
    am = results[(phase, "am")][field]
    cells = []
    for d in durabilities:
        value = results[(phase, d)][field]
        cells.append(f"{value:,.1f} | {value / am:.2f}x" if am else f"{value:,.1f} | -")
    print(f"| {title} | {am:,.1f} | " + " | ".join(cells) + f" | {'>=' if better == 'higher' else '<='} {goal}x |")
peak = {key: max(results[(p, key)]["rss"] for p in measured) for key, _ in servers}
print(f"| peak RSS over the phases (MB) | {peak['am']:.0f} | "
      + " | ".join(f"{peak[d]:.0f} | {peak[d] / peak['am']:.2f}x" for d in durabilities) + " | <= 100 MB |")
# Known exactly for the offered phases only: wrk leaves out the requests in flight at its deadline.
lost = {key: sum(results[(p, key)]["accepted"] - results[(p, key)]["delivered"] for p in ("rate200", "rate1000"))
        for key, _ in servers}
print(f"| accepted but not delivered, offered phases | {lost['am']} | "
      + " | ".join(f"{lost[d]} | " for d in durabilities) + " | 0 |")
if floor_figures:
    print_floors(floor_figures, durabilities[0])
