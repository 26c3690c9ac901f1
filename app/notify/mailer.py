"""How an e-mail leaves Parley: one small interface, backends chosen by MAILER.

`console` prints each message and keeps the last ones in memory (development and the
demo show them at /demo/mail); `smtp` hands them to any relay (STARTTLS, implicit TLS
or plain, with or without a login). A relay's 5xx refusal is permanent; anything
else (4xx, the relay unreachable) is worth a retry.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections import deque
from email.message import EmailMessage
from typing import Protocol

from app.config import Settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20.0


class MailRefused(Exception):
    """The relay refused the message for good (a 5xx): do not try again."""


class MailUnavailable(Exception):
    """The message did not go out this time (relay down, a 4xx): try again later."""


class Mailer(Protocol):
    def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        """Hand the message over; returns once the relay accepted it. `envelope_from` is
        where bounces go (MAIL FROM), when it is not the From address."""
        ...


class ConsoleMailer:
    """Prints a summary of each message (never its body: logs outlive erasure) and keeps
    the last `keep` whole messages in memory for the demo's mail page."""

    def __init__(self, keep: int = 50) -> None:
        self.sent: deque[EmailMessage] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        with self._lock:
            self.sent.append(message)
        print(f"[mail] {message['Subject']!s} -> {len(message.get_all('To') or [])} recipient(s)", flush=True)


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        user: str | None,
        password: str | None,
        timeout: float = TIMEOUT_SECONDS,
    ):
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        # Loading the system's CA certificates costs tens of milliseconds: once, and only for TLS.
        self._context: ssl.SSLContext | None = None

    def __repr__(self) -> str:  # the password stays out of logs
        return f"SmtpMailer({self.host}:{self.port}, {self.security})"

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        try:
            smtp = self._connect()
            try:
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(message, from_addr=envelope_from)
            finally:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise (MailRefused if all(code >= 500 for code in codes) else MailUnavailable)(
                f"the relay refused the recipient ({codes[0]})"
            ) from None
        except smtplib.SMTPResponseException as exc:
            error = MailRefused if exc.smtp_code >= 500 else MailUnavailable
            raise error(f"the relay answered {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"the relay could not be reached ({type(exc).__name__})") from None
        if refused:
            raise MailUnavailable(f"the relay refused {len(refused)} recipient(s) for now")

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            context = self._tls()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=self._tls())
            except BaseException:
                smtp.close()
                raise
        return smtp


def make_mailer(settings: Settings) -> Mailer:
    if settings.mailer == "smtp":
        return SmtpMailer(
            settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user, settings.smtp_password
        )
    return ConsoleMailer()
