"""What the rest of Parley holds of notify: built once by app/wiring.py."""

from __future__ import annotations

from dataclasses import dataclass

from app.chat.conversations import ChatObserver
from app.notify.alerts import MerchantAlerts
from app.notify.courier import NotifyCourier
from app.notify.followup import ShopperFollowUps
from app.notify.inbound import InboundMail
from app.notify.mailer import Mailer
from app.notify.outbox import OutboxWorker
from app.notify.shoppers import ShopperMail
from app.notify.targets import ResponseTargets
from app.notify.tokens import NotifyTokens
from app.notify.webhooks_out import ShopWebhooks


def observers() -> list[ChatObserver]:
    """What notify wants to hear from the chat actions, inside their transactions."""
    return [ResponseTargets(), MerchantAlerts(), ShopperFollowUps(), ShopWebhooks()]


@dataclass(frozen=True)
class Notify:
    tokens: NotifyTokens
    mailer: Mailer
    courier: NotifyCourier
    outbox: OutboxWorker
    inbound: InboundMail
    shoppers: ShopperMail
