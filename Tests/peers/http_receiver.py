#!/usr/bin/env python3
"""A real HTTP(S) receiver for Herald's tests: records every request as it
arrived (method, path, headers, raw body) and answers as the path asks.

  /status/503,503,200   answers 503, then 503, then 200 for every later call
  /retry-after/2        answers 429 with Retry-After: 2 once, then 200
  /hang                 holds the request for 30 s, then answers 200
  anything else         200

GET /_requests returns what was recorded, as JSON; POST /_reset forgets it.
Binds 127.0.0.1 on a free port and writes the port to --port-file.
"""
import argparse, base64, json, ssl, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
recorded = []
calls = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/_requests":
            with lock:
                data = json.dumps(recorded).encode()
            return self._answer(200, data, [("Content-Type", "application/json")])
        if self.path == "/_reset":
            with lock:
                recorded.clear()
                calls.clear()
            return self._answer(200)
        with lock:
            count = calls.get(self.path, 0)
            calls[self.path] = count + 1
            recorded.append({
                "method": self.command, "path": self.path, "time": time.time(),
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
                "body_base64": base64.b64encode(body).decode(),
            })
        if self.path.startswith("/status/"):
            codes = [int(c) for c in self.path.split("/")[2].split(",")]
            status = codes[min(count, len(codes) - 1)]
            return self._answer(status, b"answer %d" % status)
        if self.path.startswith("/retry-after/"):
            if count == 0:
                return self._answer(429, b"slow down", [("Retry-After", self.path.split("/")[2])])
            return self._answer(200)
        if self.path.startswith("/hang"):
            time.sleep(30)
        return self._answer(200, b"ok")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
