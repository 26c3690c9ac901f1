"""A real SMTP server on a local socket (aiosmtpd), standing in for the shop's relay:
tests read what it received and parse it with the standard library. It can refuse
(`refuse_with`) or be stopped and started again, as a relay that goes away."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(self.raw))


@dataclass
class _Sink:
    received: list[Received] = field(default_factory=list)
    refuse_with: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return "250 OK"


def sending_through(server: "SmtpServer", sender: str = "Parley <parley@parley.test>") -> dict[str, object]:
    """The Settings fields that send Parley's e-mail through `server` (plain SMTP on loopback)."""
    return {
        "mailer": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_security": "none",
        "mail_from": sender,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.sink = _Sink()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        with self.sink.lock:
            return list(self.sink.received)

    def refuse_with(self, reply: str | None) -> None:
        self.sink.refuse_with = reply

    def start(self) -> "SmtpServer":
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, decode_data=False)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
