"""Auto-replies: out of hours, greeting, knowledge base, fallback; sent after the 200, never twice."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.webhook import PHONE_NUMBER_ID, Receiver, fixture_bytes, inbound_text
from waba_cli.db.models.bot import AutoReply
from waba_cli.db.models.messages import Message
from waba_cli.services.bot import KnowledgeBase, within_business_hours

GREETING = "Hello! How can I help you today?"
FALLBACK = "I'm sorry, I didn't understand. Can you rephrase?"
HOURS_ANSWER = "We are open Monday to Friday, 9:00 to 17:00."
OUT_OF_HOURS = "We are closed now and will answer in the morning."


@pytest.fixture
def knowledge_file(tmp_path: Path) -> Path:
    path = tmp_path / "faq.toml"
    path.write_text(
        "[[entry]]\n"
        'question = "What are your opening hours?"\n'
        'also = ["when are you open"]\n'
        f'answer = "{HOURS_ANSWER}"\n\n'
        "[[entry]]\n"
        'question = "Do you deliver abroad?"\n'
        'answer = "Yes, to the whole EU."\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def business_changes(knowledge_file: Path) -> dict[str, Any]:
    return {
        "enable_auto_reply": True,
        "use_knowledge_base": True,
        "knowledge_base_path": str(knowledge_file),
        "enable_business_hours": False,
        "greeting_message": GREETING,
        "fallback_message": FALLBACK,
        "out_of_hours_message": OUT_OF_HOURS,
    }


@pytest.fixture
def meta(graph: Any) -> Any:
    """Graph's send endpoint, answering a new wamid for each message."""
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"messages": [{"id": f"wamid.reply-{len(sent)}"}]})

    graph.post(f"/{PHONE_NUMBER_ID}/messages").mock(side_effect=answer)
    return sent


def replies(receiver: Receiver) -> list[Any]:
    with receiver.connect() as conn:
        return list(conn.execute(select(AutoReply.__table__).order_by(AutoReply.__table__.c.id)).all())  # type: ignore[attr-defined]


def test_a_first_message_gets_the_greeting_then_knowledge_base_then_fallback(receiver: Receiver, meta: Any) -> None:
    assert receiver.post(inbound_text("wamid.in-1", "hi there")).status_code == 200
    receiver.settle()
    assert receiver.post(inbound_text("wamid.in-2", "opening hours?", at=int(time.time()) + 1)).status_code == 200
    receiver.settle()
    assert receiver.post(inbound_text("wamid.in-3", "my parcel is broken", at=int(time.time()) + 2)).status_code == 200
    receiver.settle()
    assert [m["text"]["body"] for m in meta] == [GREETING, HOURS_ANSWER, FALLBACK]
    assert [m["to"] for m in meta] == ["+5511987654321"] * 3
    assert [(r.kind, r.status) for r in replies(receiver)] == [
        ("greeting", "sent"),
        ("knowledge_base", "sent"),
        ("fallback", "sent"),
    ]
    # recorded as outbound messages, accepted with Meta's wamid
    with receiver.connect() as conn:
        outbound = conn.execute(select(Message.__table__).where(Message.__table__.c.direction == "out")).all()  # type: ignore[attr-defined]
    assert sorted((m.wamid, m.status) for m in outbound) == [(f"wamid.reply-{i}", "accepted") for i in (1, 2, 3)]


def test_a_repeated_delivery_is_answered_once(receiver: Receiver, meta: Any) -> None:
    body = inbound_text("wamid.in-once", "hello")
    for _ in range(3):
        assert receiver.post(body).status_code == 200
    receiver.settle()
    assert len(meta) == 1
    assert len(replies(receiver)) == 1


def test_two_senders_racing_for_the_same_reply_send_it_once(receiver: Receiver, meta: Any) -> None:
    from waba_cli.services.bot import send_pending_replies
    from waba_cli.services.context import CommandContext
    from waba_cli.settings import load_settings

    receiver.app.replier.close()  # the server's own sender stays out of the race
    assert receiver.post(inbound_text("wamid.in-race", "hello")).status_code == 200

    async def race() -> list[Any]:
        first, second = CommandContext(load_settings()), CommandContext(load_settings())
        return await asyncio.gather(send_pending_replies(first), send_pending_replies(second))

    results = asyncio.run(race())
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(meta) == 1


def test_out_of_hours_comes_before_the_greeting(receiver: Receiver, meta: Any, waba: Any) -> None:
    now = datetime.now(UTC)
    start, end = (now + timedelta(hours=2)).time(), (now + timedelta(hours=3)).time()
    changed = waba(
        "account",
        "update",
        "My Business WhatsApp",
        "--set",
        "enable_business_hours=true",
        "--set",
        f"business_hours_start={start:%H:%M:%S}",
        "--set",
        f"business_hours_end={end:%H:%M:%S}",
    )
    assert changed.code == 0, changed.err
    assert receiver.post(inbound_text("wamid.in-night", "hello")).status_code == 200
    receiver.settle()
    assert [m["text"]["body"] for m in meta] == [OUT_OF_HOURS]


@pytest.mark.slow
def test_the_webhook_answers_before_graph_does(receiver: Receiver, graph: Any) -> None:
    slow_started = time.monotonic()

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(200, json={"messages": [{"id": "wamid.slow"}]})

    graph.post(f"/{PHONE_NUMBER_ID}/messages").mock(side_effect=slow)
    assert receiver.post(inbound_text("wamid.in-slow", "hello")).status_code == 200
    assert time.monotonic() - slow_started < 0.9
    receiver.settle()
    assert replies(receiver)[0].reply_wamid == "wamid.slow"


def test_a_reaction_gets_no_reply(receiver: Receiver, meta: Any) -> None:
    assert receiver.post(fixture_bytes("10-location-and-reaction.json")).status_code == 200
    receiver.settle()
    kinds = {r.inbound_wamid for r in replies(receiver)}
    assert len(kinds) == 1  # the location is answered, the two reactions are not


# -- the pieces --------------------------------------------------------------------------------


def test_knowledge_base_scoring_finds_paraphrases_but_not_single_shared_words(knowledge_file: Path) -> None:
    kb = KnowledgeBase.load(knowledge_file)
    best = kb.best("Opening hours?")
    assert best is not None
    assert best.answer == HOURS_ANSWER
    assert best.score >= 80
    other = kb.best("when r u open")
    assert other is not None
    assert other.answer == HOURS_ANSWER
    unrelated = kb.best("yes")
    assert unrelated is None or unrelated.score < 80


def test_a_csv_knowledge_base_works_too(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text('question,answer\n"Do you deliver abroad?","Yes, to the whole EU."\n', encoding="utf-8")
    best = KnowledgeBase.load(path).best("do you deliver abroad")
    assert best is not None
    assert (best.answer, best.score) == ("Yes, to the whole EU.", 100.0)


def test_business_hours_are_read_on_the_accounts_clock_and_may_span_midnight() -> None:
    from datetime import time as clock

    nine, five = clock(9), clock(17)
    # 08:30 UTC is 10:30 in Berlin in summer: open there, closed in UTC
    at = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert within_business_hours(nine, five, "Europe/Berlin", at)
    assert not within_business_hours(nine, five, "UTC", at)
    assert within_business_hours(clock(22), clock(6), "UTC", datetime(2026, 7, 1, 23, 0, tzinfo=UTC))
    assert not within_business_hours(clock(22), clock(6), "UTC", datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
