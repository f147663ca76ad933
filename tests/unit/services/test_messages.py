"""`waba message list` and `message show`: messages read back, filtered, with their status history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.messaging import (
    BUSINESS,
    CONTACT,
    MESSAGES_URL,
    PNID,
    accepted,
    add_inbound,
    apply_webhook,
    status_webhook,
)
from waba_cli.db.engine import Database
from waba_cli.db.models.messages import Message

OTHER = "+16505550177"
LIST_KEYS = {"wamid", "direction", "status", "to", "from", "type", "text", "created_at", "error_code"}


@pytest.fixture
def history(waba: Any, graph: Any, db: Database, account_id: int) -> None:
    """Ana wrote two hours ago, we answered; an old campaign message to someone else failed."""
    add_inbound(db, account_id, age=timedelta(hours=2))
    graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=accepted("wamid.REPLY")))
    assert waba("send", "text", "--to", CONTACT, "--body", "Thanks, on it").code == 0
    with db.transaction() as session:
        session.add(
            Message(
                account_id=account_id,
                phone_number_id=PNID,
                direction="out",
                contact=OTHER,
                type="template",
                text="Spring sale",
                status="failed",
                error_code=131049,
                campaign="spring",
                template_name="spring_sale",
                created_at=datetime.now(UTC) - timedelta(days=10),
            )
        )


def test_message_list_json_is_newest_first_with_the_contract_keys(waba: Any, history: None) -> None:
    result = waba("message", "list", "--json")

    assert result.code == 0, result.err
    rows = result.json()
    assert [(r["direction"], r["status"]) for r in rows] == [("out", "accepted"), ("in", "received"), ("out", "failed")]
    assert all(set(r) >= LIST_KEYS for r in rows)
    reply, inbound, failed = rows
    assert (reply["wamid"], reply["from"], reply["to"], reply["text"]) == (
        "wamid.REPLY",
        BUSINESS,
        CONTACT,
        "Thanks, on it",
    )
    assert (inbound["from"], inbound["to"]) == (CONTACT, BUSINESS)
    assert (failed["to"], failed["error_code"], failed["wamid"]) == (OTHER, 131049, None)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--direction", "in"], ["received"]),
        (["--direction", "out"], ["accepted", "failed"]),
        (["--status", "failed"], ["failed"]),
        (["--to", "+1 650-555-0123"], ["accepted", "received"]),
        (["--campaign", "spring"], ["failed"]),
        (["--since", "7d"], ["accepted", "received"]),
        (["--since", "90m"], ["accepted"]),
        (["--limit", "1"], ["accepted"]),
    ],
)
def test_message_list_filters(waba: Any, history: None, args: list[str], expected: list[str]) -> None:
    result = waba("message", "list", *args, "--json")

    assert result.code == 0, result.err
    assert [r["status"] for r in result.json()] == expected


@pytest.mark.parametrize(
    "args", [["--since", "yesterday-ish"], ["--direction", "sideways"], ["--status", "lost"], ["--to", "12"]]
)
def test_message_list_refuses_bad_filters(waba: Any, history: None, args: list[str]) -> None:
    result = waba("message", "list", *args)

    assert result.code == 2
    assert args[0] in result.err


def test_message_list_for_humans_is_a_table(waba: Any, history: None) -> None:
    result = waba("message", "list", "--direction", "out")

    assert result.code == 0
    header, *lines = result.out.splitlines()
    assert header.split("\t")[:3] == ["CREATED", "DIR", "STATUS"]
    assert len(lines) == 2


def test_message_show_has_the_full_status_history_with_pricing(waba: Any, db: Database, history: None) -> None:
    apply_webhook(db, status_webhook("wamid.REPLY", "sent", "delivered", "read"))

    result = waba("message", "show", "wamid.REPLY", "--json")

    assert result.code == 0, result.err
    shown = result.json()
    assert (shown["status"], shown["from"], shown["to"], shown["text"]) == ("read", BUSINESS, CONTACT, "Thanks, on it")
    assert [h["status"] for h in shown["history"]] == ["sent", "delivered", "read"]
    assert shown["history"][0]["at"].startswith("2025-06-15T23:27:53")
    assert shown["history"][0]["pricing"]["type"] == "free_customer_service"
    assert shown["payload"]["text"] == {"preview_url": False, "body": "Thanks, on it"}

    human = waba("message", "show", "wamid.REPLY")
    assert human.code == 0
    assert "free_customer_service" in human.out


def test_message_show_of_an_unknown_wamid_is_exit_2(waba: Any, history: None) -> None:
    result = waba("message", "show", "wamid.NOPE")

    assert result.code == 2
    assert "waba message list" in result.err


def test_message_show_of_a_wamid_known_only_from_webhooks(waba: Any, db: Database, account_id: int) -> None:
    apply_webhook(db, status_webhook("wamid.ELSEWHERE", "sent", "delivered"))

    result = waba("message", "show", "wamid.ELSEWHERE", "--json")

    assert result.code == 0, result.err
    shown = result.json()
    assert (shown["status"], [h["status"] for h in shown["history"]]) == ("delivered", ["sent", "delivered"])


FORGED = "hi\nstatus\tread\nerror\t0\x1b]0;owned\x07\u202e"


def _add_forging_message(db: Database, account_id: int) -> None:
    with db.transaction() as session:
        session.add(
            Message(
                account_id=account_id,
                phone_number_id=PNID,
                direction="in",
                wamid="wamid.FORGE",
                contact=CONTACT,
                contact_name="\x1b[31mAna\x1b[0m",
                type="text",
                text=FORGED,
                status="received",
                created_at=datetime.now(UTC),
            )
        )


def test_message_show_piped_cannot_forge_key_value_lines(waba: Any, db: Database, account_id: int) -> None:
    _add_forging_message(db, account_id)

    result = waba("message", "show", "wamid.FORGE")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    keys = [line.split("\t", 1)[0] for line in lines[1:] if "\t" in line]
    assert keys.count("status") == 1 and "error" not in keys
    assert "text\thi\\nstatus\\tread\\nerror\\t0\\x1b]0;owned\\x07\\u202e" in lines
    assert "\x1b" not in result.out and "\u202e" not in result.out


def test_message_list_piped_escapes_a_customers_text_and_json_keeps_it_exact(
    waba: Any, db: Database, account_id: int
) -> None:
    _add_forging_message(db, account_id)

    table = waba("message", "list")
    as_json = waba("message", "list", "--json")

    assert table.code == 0, table.err
    assert len(table.out.splitlines()) == 2  # the header and one row, whatever the text holds
    assert "\x1b" not in table.out and "\\x1b]0;owned" in table.out
    assert as_json.json()[0]["text"] == FORGED
