#!/usr/bin/env python3
"""The receiver of the Alertmanager comparison: answers every POST with 200
and notes when each alert first arrived.

An alert is named by its `seq` label, found anywhere in the request as
`"seq":"N"` (Alertmanager repeats it in groupLabels and commonLabels; Herald's
HTTP channel sends it in the event's labels), so one receiver serves both
servers alike. `GET /count` answers how many distinct alerts arrived so far.
On SIGTERM it writes one line per alert, `seq first-receipt` (Unix seconds),
to OUT and exits.

Runs on uvloop when installed (python3-uvloop), where it takes several times
the requests per second of either server; its HTTP parsing is the minimum
both servers' requests need (Content-Length bodies, keep-alive).

  webhook_receiver.py PORT OUT
"""
import asyncio, re, signal, sys, time

try:
    import uvloop
except ImportError:
    uvloop = None

port, out = int(sys.argv[1]), sys.argv[2]
first = {}
SEQ = re.compile(rb'"seq":\s*"([^"]+)"')
LENGTH = re.compile(rb'\r\ncontent-length:\s*(\d+)', re.IGNORECASE)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        now = time.time()
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            match = LENGTH.search(self.buffer, 0, head_end + 2)
            end = head_end + 4 + (int(match.group(1)) if match else 0)
            if len(self.buffer) < end:
                if b"100-continue" in self.buffer[:head_end].lower():
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            request, self.buffer = self.buffer[:end], self.buffer[end:]
            if request.startswith(b"GET /count"):
                body = str(len(first)).encode()
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                continue
            for seq in SEQ.findall(request, head_end):
                first.setdefault(seq, now)
            self.transport.write(OK)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=1024, reuse_address=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    with open(out, "w") as file:
        for seq, at in first.items():
            file.write("%s %.6f\n" % (seq.decode(), at))


if uvloop:
    uvloop.install()
asyncio.run(main())
