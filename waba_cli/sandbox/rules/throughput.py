"""Throughput (§9.1, §9.2): how fast a number may send, as token buckets.

Every number has Meta's default throughput, 80 messages/s (``throughput.level`` STANDARD; a burst
of 80; HIGH is 1,000/s, a number also used in the WhatsApp Business app 20/s), and the pair rate
limit: a burst of 45 to one customer, then one per 6 s. Beyond them sends get 130429 / 131056.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from waba_cli.sandbox.errors import GraphFailure
from waba_cli.sandbox.state import PhoneNumber

THROUGHPUT = {"STANDARD": 80.0, "HIGH": 1000.0}
COEXISTENCE_THROUGHPUT = 20.0  # numbers also used in the WhatsApp Business app (§9.1)
PAIR_BURST, PAIR_INTERVAL = 45.0, 6.0


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class Pacer:
    """The buckets of one sandbox: per number, and per (number, customer) pair."""

    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _pairs: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def take(self, number: PhoneNumber, wa_id: str) -> None:
        """Spend one send of ``number`` to ``wa_id``, or raise 130429 / 131056 and spend nothing."""
        now = time.monotonic()
        rate = COEXISTENCE_THROUGHPUT if number.is_on_biz_app else THROUGHPUT.get(number.throughput_level, 80.0)
        bucket = self._buckets.get(number.id)
        if bucket is None:
            bucket = self._buckets[number.id] = _Bucket(rate, now)
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            raise GraphFailure(130429, f"Cloud API message throughput ({rate:g} messages/s) has been reached.")
        pair = self._pairs.get((number.id, wa_id))
        if pair is None:
            pair = self._pairs[(number.id, wa_id)] = _Bucket(PAIR_BURST, now)
        pair.tokens = min(PAIR_BURST, pair.tokens + (now - pair.at) / PAIR_INTERVAL)
        pair.at = now
        if pair.tokens < 1:
            raise GraphFailure(131056, f"Too many messages to {wa_id} from this number in a short time.")
        bucket.tokens -= 1
        pair.tokens -= 1
