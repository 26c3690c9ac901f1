"""`parley mail-in`: an SMTP listener (aiosmtpd) that takes shoppers' e-mail replies.

Unknown or forged addresses are refused at RCPT time (550), oversized mail at DATA
time (552), so nothing is stored for them; everything else goes through
InboundMail.receive, the same path as a provider's inbound webhook.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller

from app.notify.inbound import MAX_BYTES, InboundMail, MailRefusal

log = logging.getLogger(__name__)


class ReplyHandler:
    def __init__(self, inbound: InboundMail):
        self.inbound = inbound

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if not self.inbound.accepts(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        loop = asyncio.get_running_loop()
        try:
            # The database is blocking: off the event loop.
            received = await loop.run_in_executor(None, self.inbound.receive, bytes(raw), list(envelope.rcpt_tos))
        except MailRefusal as exc:
            return f"{exc.code} {exc.message}"
        except Exception:
            log.exception("an inbound e-mail could not be stored")
            return "451 4.3.0 Try again later"
        log.info("inbound e-mail: %s", received.outcome)
        return "250 OK"


def controller(inbound: InboundMail, host: str, port: int) -> Controller:
    """The listener, not yet started (`.start()` runs it in a thread; `.stop()` ends it)."""
    # aiosmtpd logs every connection at INFO (its start-up self-test too): ours says what matters.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return Controller(ReplyHandler(inbound), hostname=host, port=port, data_size_limit=MAX_BYTES, decode_data=False)
