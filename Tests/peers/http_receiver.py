#!/usr/bin/env python3
"""A real HTTP(S) receiver for Herald's tests: records every request as it
arrived (method, path, headers, raw body) and answers as the path asks.

  /status/503,503,200   answers 503, then 503, then 200 for every later call
  /retry-after/2        answers 429 with Retry-After: 2 once, then 200
  /hang                 holds the request for 30 s, then answers 200
  /pagerduty/...        a PagerDuty Events API v2 enqueue endpoint: checks the
                        v2 schema, answers 202 or 400 with PagerDuty's error body
                        (routing keys starting "unknown" are refused)
  /pagerduty-429/N/...  the same, after answering 429 with Retry-After: N once
  anything else         200

GET /_requests returns what was recorded, as JSON; POST /_reset forgets it.
Binds 127.0.0.1 on a free port and writes the port to --port-file.
"""
import argparse, base64, json, re, ssl, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
recorded = []
calls = {}


def pagerduty_errors(body):
    """What PagerDuty's Events API v2 would refuse in this body."""
    if len(body) > 512 * 1024:
        return ["Event object is larger than 512 KB"]
    try:
        event = json.loads(body)
    except ValueError:
        return ["Event object is not valid JSON"]
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' must be a 32 character string")
    elif key.startswith("unknown"):
        errors.append("Invalid routing key")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve")
    payload = event.get("payload")
    if action == "trigger" or payload is not None:
        if not isinstance(payload, dict):
            errors.append("'payload' is required and must be an object")
        else:
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary:
                errors.append("'payload.summary' is missing or blank")
            elif len(summary) > 1024:
                errors.append("'payload.summary' is longer than 1024 characters")
            if not isinstance(payload.get("source"), str) or not payload.get("source"):
                errors.append("'payload.source' is missing or blank")
            if payload.get("severity") not in ("critical", "error", "warning", "info"):
                errors.append("'payload.severity' must be one of critical, error, warning, info")
            timestamp = payload.get("timestamp")
            if timestamp is not None and not (isinstance(timestamp, str) and re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)", timestamp)):
                errors.append("'payload.timestamp' must be an ISO 8601 date-time")
            for name in ("component", "group", "class"):
                if name in payload and not isinstance(payload[name], str):
                    errors.append(f"'payload.{name}' must be a string")
            if "custom_details" in payload and not isinstance(payload["custom_details"], (dict, str)):
                errors.append("'payload.custom_details' must be an object")
    for link in event.get("links") or []:
        if not isinstance(link, dict) or not isinstance(link.get("href"), str):
            errors.append("each of 'links' needs an 'href'")
    for image in event.get("images") or []:
        if not isinstance(image, dict) or not isinstance(image.get("src"), str):
            errors.append("each of 'images' needs a 'src'")
    return errors


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
        if self.path.startswith("/pagerduty"):
            if self.path.startswith("/pagerduty-429/"):
                if count == 0:
                    return self._answer(429, b'{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}',
                                        [("Retry-After", self.path.split("/")[2]), ("Content-Type", "application/json")])
            errors = pagerduty_errors(body)
            if errors:
                answer = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
                return self._answer(400, json.dumps(answer).encode(), [("Content-Type", "application/json")])
            answer = {"status": "success", "message": "Event processed", "dedup_key": json.loads(body).get("dedup_key")}
            return self._answer(202, json.dumps(answer).encode(), [("Content-Type", "application/json")])
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
    # A listen backlog like a real server's (nginx: 511), not http.server's 5,
    # which refuses connections when a client opens dozens at once.
    ThreadingHTTPServer.request_queue_size = 512
    # A given port (a receiver started again where a stopped one was) may
    # be held for a moment as the local end of some outgoing connection:
    # try for a while before giving up.
    deadline = time.time() + 20
    while True:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
            break
        except OSError as error:
            if args.port == 0 or error.errno != 98 or time.time() > deadline:
                raise
            time.sleep(0.2)
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
