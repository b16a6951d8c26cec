"""A real SMTP server for the tests (Debian's python3-aiosmtpd): STARTTLS required, AUTH
PLAIN/LOGIN with one user, and every message received written to DIR as N.eml plus N.json —
parsed back by Python's own email package, so the tests check what a mail client would see.
Recipients starting with "bounce" are refused 550 at RCPT, "busy" 451, "slow" wait 3 s.

    /usr/bin/python3 Tests/support/smtp_server.py PORT DIR CERT KEY USER PASSWORD [IMPLICIT_TLS_PORT]

With IMPLICIT_TLS_PORT it also listens there with TLS from the first byte (smtps://, port 465 style).
"""
import asyncio
import email
import hashlib
import subprocess
import email.policy
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, directory, implicit=False):
        self.directory = directory
        self.implicit = implicit
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy"):
            return "451 4.3.0 try again later"
        if address.startswith("slow"):
            await asyncio.sleep(3)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = os.path.join(self.directory, "%06d-%d%s" % (self.count, os.getpid(), "-tls" if self.implicit else ""))
        with open(stem + ".eml", "wb") as raw:
            raw.write(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": str(message["Message-ID"]),
            "subject": str(message["Subject"]),
            "from": str(message["From"]),
            "to": str(message["To"]),
            "reply_to": str(message["Reply-To"]) if message["Reply-To"] else None,
            "content_type": message.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "attachments": [attachment_summary(part, stem, index) for index, part in enumerate(message.iter_attachments())],
            "tls": session.ssl is not None or self.implicit,
            "implicit_tls": self.implicit,
            "authenticated": bool(session.authenticated),
        }
        with open(stem + ".json.tmp", "w", encoding="utf-8") as out:
            json.dump(summary, out, ensure_ascii=False)
        os.rename(stem + ".json.tmp", stem + ".json")
        return "250 Message accepted"


def attachment_summary(part, stem, index):
    """An attachment: its name and type, its SHA-256, and for a PDF the page count pdfinfo reports."""
    data = part.get_content()
    if isinstance(data, str):
        data = data.encode()
    path = "%s.attachment%d" % (stem, index)
    with open(path, "wb") as out:
        out.write(data)
    pages = None
    if part.get_content_type() == "application/pdf":
        info = subprocess.run(["pdfinfo", path], capture_output=True, text=True)
        for line in info.stdout.splitlines():
            if line.startswith("Pages:"):
                pages = int(line.split()[1])
    return {"filename": part.get_filename(), "content_type": part.get_content_type(),
            "sha256": hashlib.sha256(data).hexdigest(), "pages": pages}


def main():
    port, directory, cert, key, user, password = sys.argv[1:7]
    implicit_port = sys.argv[7] if len(sys.argv) > 7 else None
    os.makedirs(directory, exist_ok=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    controller = Controller(Handler(directory), hostname="127.0.0.1", port=int(port), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller.start()
    controllers = [controller]
    if implicit_port:
        implicit = Controller(Handler(directory, implicit=True), hostname="127.0.0.1", port=int(implicit_port), ssl_context=context,
                              authenticator=authenticator, auth_required=True, auth_require_tls=False)
        implicit.start()
        controllers.append(implicit)
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        for running in controllers:
            running.stop()


if __name__ == "__main__":
    main()
