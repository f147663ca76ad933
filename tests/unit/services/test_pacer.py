"""The token bucket that paces a campaign, on a fake clock: steady pacing, AIMD after 130429."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support.campaigns import FakeTime
from waba_cli.services.ratelimit import Pacer


def pacer(rate: float, fake: FakeTime, *, burst: int = 1) -> Pacer:
    return Pacer(rate, burst=burst, clock=fake.clock, sleep=fake.sleep)


async def stamp(p: Pacer, fake: FakeTime, times: list[float]) -> None:
    await p.acquire()
    times.append(fake.now)


async def send_times(p: Pacer, fake: FakeTime, count: int, *, concurrently: bool = True) -> list[float]:
    """When each of ``count`` senders got its slot."""
    times: list[float] = []

    async def one() -> None:
        await p.acquire()
        times.append(fake.now)

    if concurrently:
        await asyncio.gather(*(one() for _ in range(count)))
    else:
        for _ in range(count):
            await one()
    return times


def test_a_steady_rate_spaces_sends_exactly_one_interval_apart() -> None:
    fake = FakeTime()
    p = pacer(80, fake)

    times = asyncio.run(send_times(p, fake, 81))

    assert times[-1] - times[0] == pytest.approx(1.0)
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {round(1 / 80, 9)}


def test_a_burst_lets_a_stall_be_made_up_for() -> None:
    fake = FakeTime()
    p = pacer(100, fake, burst=5)

    async def scenario() -> list[float]:
        await send_times(p, fake, 1)
        fake.now += 1.0  # a stall: nobody sent for a second
        return await send_times(p, fake, 6)

    times = asyncio.run(scenario())

    assert times[:5] == [times[0]] * 5  # the saved-up slots go at once
    assert times[5] - times[4] == pytest.approx(0.01)


def test_unpaced_never_sleeps_and_ignores_throttling() -> None:
    fake = FakeTime()
    p = pacer(0, fake)
    p.slow_down()
    p.recover()

    asyncio.run(send_times(p, fake, 50))

    assert fake.slept == []
    assert p.rate == 0


def test_a_flood_of_130429_halves_the_rate_once_per_second() -> None:
    fake = FakeTime()
    p = pacer(400, fake)

    for _ in range(150):  # the answers to every request in flight, all at once
        p.slow_down()
    assert p.rate == 200
    fake.now += 0.9
    p.slow_down()
    assert p.rate == 200
    fake.now += 0.2
    for _ in range(50):
        p.slow_down()
    assert p.rate == 100


def test_the_rate_never_falls_below_one_per_second_or_above_the_target() -> None:
    fake = FakeTime()
    p = pacer(4, fake)
    for _ in range(5):
        p.slow_down()
        fake.now += 1.0
    assert p.rate == 1.0
    slow = pacer(0.5, fake)  # a per-minute limit of 30
    slow.slow_down()
    assert slow.rate == 0.5


def test_successes_restore_the_rate_per_second_not_per_success() -> None:
    fake = FakeTime()
    p = pacer(400, fake)
    p.slow_down()
    assert p.rate == 200

    for _ in range(100):  # a hundred successes within 10 ms
        fake.now += 0.0001
        p.recover()
    assert p.rate == pytest.approx(200 + 20 * 0.01)

    for _ in range(100):  # then a second of successes: +target/20
        fake.now += 0.01
        p.recover()
    assert p.rate == pytest.approx(220.2)

    fake.now += 60  # an idle minute counts as one second at most
    p.recover()
    assert p.rate == pytest.approx(240.2)

    for _ in range(20):
        fake.now += 1
        p.recover()
    assert p.rate == 400


def test_waiters_queued_before_a_recovery_go_at_the_recovered_rate() -> None:
    """The audit's collapse: senders that queued at 1/s must not keep that pace once the rate is back."""
    fake = FakeTime()
    p = pacer(80, fake)
    for _ in range(7):
        p.slow_down()
        fake.now += 1.0
    assert p.rate == 1.0

    async def scenario() -> list[float]:
        times: list[float] = []
        waiting = [asyncio.ensure_future(stamp(p, fake, times)) for _ in range(41)]
        await asyncio.sleep(0)
        p.rate = 80.0  # as recovery would, while all of them wait
        await asyncio.gather(*waiting)
        return times

    times = asyncio.run(scenario())

    # at most the slots being taken when the rate changed go at 1/s; the rest follow at 80/s
    # (before, every waiter had booked its slot at 1/s: 40 s for the lot)
    assert times[-1] - times[0] < 3
    assert times[-1] - times[-2] == pytest.approx(1 / 80)


def test_a_cut_applies_to_senders_already_waiting() -> None:
    fake = FakeTime()
    p = pacer(100, fake)

    async def scenario() -> list[float]:
        times: list[float] = []
        waiting = [asyncio.ensure_future(stamp(p, fake, times)) for _ in range(12)]
        await asyncio.sleep(0)
        p.slow_down()  # 50/s
        await asyncio.gather(*waiting)
        return times

    times = asyncio.run(scenario())

    assert times[-1] - times[2] == pytest.approx(9 / 50)
