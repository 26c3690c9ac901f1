"""The event broker: wakes listeners, never holds the truth.

Two backends behind one interface, picked by configuration:
- InProcessBroker (default): one process, no moving parts.
- RedisBroker (REDIS_URL): many processes; one Redis pub/sub connection per
  process fans out to local subscribers.

Publishing happens after the database commit. If the broker is down the
message is already stored: publish logs and moves on. Meanwhile one poller per
process asks the database what is new (`fall_back_on`) and wakes only the streams
that have news; without one, each stream polls the database itself. When the
broker returns, one last look wakes what arrived in between, not every stream.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    channel: str
    kind: str  # "message", "typing", "read", "status", "resync"
    data: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps({"channel": self.channel, "kind": self.kind, "data": self.data}, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | bytes) -> "Event":
        obj = json.loads(raw)
        return cls(channel=obj["channel"], kind=obj["kind"], data=obj.get("data") or {})


class Subscription(Protocol):
    def get(self, timeout: float) -> Event | None: ...
    def close(self) -> None: ...


class News(Protocol):
    """The channels with messages stored since the last call (app/chat/news.py)."""

    def __call__(self) -> Set[str]: ...
    def forget(self) -> None: ...


class Broker(Protocol):
    @property
    def healthy(self) -> bool: ...
    @property
    def streams_must_poll(self) -> bool:
        """Down, with nobody looking at the database for the streams: each looks itself."""
        ...

    def publish(self, event: Event) -> None: ...
    def subscribe(self, channels: Iterable[str]) -> Subscription: ...
    def close(self) -> None: ...


class _LocalSubscription:
    def __init__(self, hub: "_Hub", channels: frozenset[str]):
        self._hub = hub
        self.channels = channels
        self.queue: queue.Queue[Event] = queue.Queue(maxsize=1000)

    def deliver(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            # A listener that stopped reading loses hints only; the database has the messages.
            pass

    def get(self, timeout: float) -> Event | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._hub.remove(self)


class _Hub:
    """Local fan-out from channel to the subscriptions of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_channel: dict[str, set[_LocalSubscription]] = {}

    def add(self, channels: Iterable[str]) -> _LocalSubscription:
        sub = _LocalSubscription(self, frozenset(channels))
        with self._lock:
            for channel in sub.channels:
                self._by_channel.setdefault(channel, set()).add(sub)
        return sub

    def remove(self, sub: _LocalSubscription) -> None:
        with self._lock:
            for channel in sub.channels:
                subs = self._by_channel.get(channel)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._by_channel[channel]

    def dispatch(self, event: Event) -> None:
        with self._lock:
            targets = list(self._by_channel.get(event.channel, ()))
        for sub in targets:
            sub.deliver(event)

    def broadcast_resync(self) -> None:
        with self._lock:
            targets = {sub for subs in self._by_channel.values() for sub in subs}
        for sub in targets:
            sub.deliver(Event(channel="*", kind="resync"))

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len({sub for subs in self._by_channel.values() for sub in subs})


class InProcessBroker:
    def __init__(self) -> None:
        self._hub = _Hub()

    @property
    def healthy(self) -> bool:
        return True

    @property
    def streams_must_poll(self) -> bool:
        return False

    def publish(self, event: Event) -> None:
        self._hub.dispatch(event)

    def subscribe(self, channels: Iterable[str]) -> _LocalSubscription:
        return self._hub.add(channels)

    def close(self) -> None:
        pass


class RedisBroker:
    PREFIX = "parley:"

    def __init__(self, url: str, reconnect_delay: float = 0.5, max_reconnect_delay: float = 5.0):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=10)
        self._hub = _Hub()
        self._healthy = False
        self._closed = threading.Event()
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._connected = threading.Event()
        self._news: News | None = None
        self._news_lock = threading.Lock()
        self._poll_seconds = 2.0
        self._thread = threading.Thread(target=self._listen_forever, name="parley-redis-broker", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def streams_must_poll(self) -> bool:
        return not self._healthy and self._news is None

    def fall_back_on(self, news: News, poll_seconds: float = 2.0) -> None:
        """While Redis is down, one poller asks `news` every `poll_seconds` and wakes those
        streams; when it returns, one last look instead of every stream reading again."""
        first = self._news is None
        self._news, self._poll_seconds = news, poll_seconds
        if not first:
            return  # the poller is running already
        threading.Thread(target=self._poll_while_down, name="parley-broker-fallback", daemon=True).start()

    def wait_until_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def publish(self, event: Event) -> None:
        try:
            self._redis.publish(self.PREFIX + event.channel, event.encode())
        except Exception as exc:  # noqa: BLE001 - any broker failure; the row is stored; listeners will find it when they resync
            # The listener notices the outage too, and every stream resyncs when it reconnects.
            log.warning("broker publish failed (%s); listeners will catch up from the database", exc.__class__.__name__)

    def subscribe(self, channels: Iterable[str]) -> _LocalSubscription:
        return self._hub.add(channels)

    def close(self) -> None:
        self._closed.set()
        try:
            self._redis.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail any way
            pass

    def _wake_those_with_news(self) -> int:
        news = self._news
        if news is None:
            return 0
        with self._news_lock:
            try:
                channels = news()
            except Exception as exc:  # noqa: BLE001 - the database may be down too; try at the next look
                log.warning("looking for news in the database failed (%s)", exc.__class__.__name__)
                return 0
        for channel in channels:
            self._hub.dispatch(Event(channel=channel, kind="message"))
        return len(channels)

    def _poll_while_down(self) -> None:
        while not self._closed.is_set():
            if self._healthy:
                self._closed.wait(min(self._poll_seconds, 0.5))
                continue
            self._wake_those_with_news()
            self._closed.wait(self._poll_seconds)

    def _listen_forever(self) -> None:
        delay = self._reconnect_delay
        while not self._closed.is_set():
            pubsub = None
            try:
                # redis-py leaves pubsub() unannotated.
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.psubscribe(self.PREFIX + "*")
                self._healthy = True
                self._connected.set()
                delay = self._reconnect_delay
                if self._news is None:
                    # Whatever was published while we were away is in the database: wake everyone to look.
                    self._hub.broadcast_resync()
                else:
                    # The poller kept the streams current: wake only those with news since its last look.
                    self._wake_those_with_news()
                    with self._news_lock:
                        self._news.forget()
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "pmessage":
                        try:
                            self._hub.dispatch(Event.decode(message["data"]))
                        except (ValueError, KeyError):
                            log.warning("ignored a malformed broker event")
            except Exception as exc:  # noqa: BLE001 - any failure of the connection: reconnect
                if self._closed.is_set():
                    break
                if self._healthy:
                    log.warning(
                        "broker connection lost (%s); streams poll the database meanwhile", exc.__class__.__name__
                    )
                self._healthy = False
                self._connected.clear()
                time.sleep(delay)
                # Backing off: a Redis that is down is not asked hundreds of times a minute.
                delay = min(delay * 2, self._max_reconnect_delay)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001 - closing a broken connection may fail any way
                        pass


def make_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
