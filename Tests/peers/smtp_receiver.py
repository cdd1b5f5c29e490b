#!/usr/bin/env python3
"""An SMTP server for tests (aiosmtpd, Debian's python3-aiosmtpd) on 127.0.0.1.

STARTTLS (required) or implicit TLS, AUTH PLAIN/LOGIN required when --user is
given. Each accepted mail is appended as one JSON line to --out: the envelope,
the raw message, and what Python's email package parses out of it (an
independent reader of the MIME we send).

Recipients steer the answer: temp...@ gets 451 (try later), reject...@ gets
550 (no such user); anything else is accepted.
"""
import argparse
import email
import email.policy
import json
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("temp"):
            return "451 4.3.0 Mailbox busy, try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in parsed.walk():
            if part.is_multipart():
                continue
            parts.append({
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding"),
                "text": part.get_content(),
            })
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # session.ssl covers STARTTLS; the transport, implicit TLS.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated_as": session.auth_data.decode() if isinstance(session.auth_data, bytes) else session.auth_data,
            "raw": raw.decode("utf-8", "replace"),
            "headers": {name: str(value) for name, value in parsed.items()},
            "content_type": parsed.get_content_type(),
            "parts": parts,
            "defects": [str(defect) for defect in parsed.defects],
        }
        with self.lock, open(self.out, "a") as out:
            out.write(json.dumps(record) + "\n")
        return "250 2.0.0 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    arguments = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(arguments.cert, arguments.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and arguments.user is not None \
                and auth_data.login.decode() == arguments.user and auth_data.password.decode() == arguments.password:
            return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)

    options = {"hostname": "127.0.0.1", "port": arguments.port}
    if arguments.implicit_tls:
        options["ssl_context"] = context
    else:
        options.update(tls_context=context, require_starttls=True)
    if arguments.user is not None:
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; implicit
        # TLS is TLS from the first byte.
        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=not arguments.implicit_tls)
    controller = Controller(Recorder(arguments.out), **options)
    controller.start()
    print(f"listening on {arguments.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
