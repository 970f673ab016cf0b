"""Outgoing mail behind one small interface: SMTP when SMTP_URL is set, a local outbox otherwise."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

DEFAULT_SENDER = "Signal93 <ne-pas-repondre@signal93.seinesaintdenis.fr>"


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None:
        """Send a plain-text message; ``headers`` adds header lines (List-Unsubscribe…)."""


def _message(sender: str, to: str, subject: str, body: str, headers: Mapping[str, str] | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="signal93")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


class SmtpMailer:
    """Sends through an SMTP server: ``smtp://user:password@host:port`` (``smtps://`` for TLS,
    ``smtp+starttls://`` to upgrade)."""

    def __init__(self, url: str, sender: str = DEFAULT_SENDER, timeout: float = 10.0):
        parts = urlsplit(url)
        self.scheme, self.host = parts.scheme, parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender, self.timeout = sender, timeout

    def send(self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None:
        message = _message(self.sender, to, subject, body, headers)
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
        log.info("mail sent", extra={"subject": subject})


class OutboxMailer:
    """Writes each message as an .eml file in a folder (the embedded mode: nothing to set up)."""

    def __init__(self, folder: Path, sender: str = DEFAULT_SENDER):
        self.folder, self.sender = folder, sender

    def send(self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(_message(self.sender, to, subject, body, headers)))
        log.info("mail written to the outbox", extra={"file": path.name})


def make_mailer(smtp_url: str | None, instance_path: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else OutboxMailer(instance_path / "outbox")
