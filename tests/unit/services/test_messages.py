"""`waba message list` and `message show`: messages read back, filtered, with their status history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
from tests.support.world import on_a_terminal
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


# -- message list on a terminal: full ids, one line each, how many were left out, a pager -----------


def add_outbound(db: Database, account_id: int, count: int, text: str = "Your order shipped") -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        session.add_all(
            Message(
                account_id=account_id,
                phone_number_id=PNID,
                direction="out",
                wamid=f"wamid.HBgLMTY1MDU1NTAxMjMVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA{i:04d}",
                contact=CONTACT,
                type="text",
                text=f"{text} {i}",
                status="delivered",
                created_at=now - timedelta(minutes=i),
            )
            for i in range(count)
        )


def test_message_list_on_a_terminal_is_one_line_per_message_with_an_id_message_show_takes(
    waba: Any, db: Database, account_id: int
) -> None:
    add_outbound(db, account_id, 3, text="\x1b[2JA long text\nthat goes on " + "and on " * 30)

    result = on_a_terminal("message", "list", columns=100)

    assert result.code == 0, result.err
    lines = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", result.out).splitlines() if line.strip()]
    assert len(lines) == 1 + 1 + 3  # header, rule, one line per message
    assert all(len(line) <= 100 for line in lines)
    assert lines[2].endswith("…")
    assert "\\x1b[2JA long text\\nthat goes on" in lines[2] and "\x1b[2J" not in result.out  # escaped
    assert "+16505550123" in lines[2]
    short_id = lines[2].split()[0]
    shown = waba("message", "show", short_id, "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["wamid"].endswith("A0000")
    assert waba("message", "show", "#" + short_id, "--json").json()["wamid"] == shown.json()["wamid"]
    assert waba("message", "show", "99999").code == 2
    assert waba("message", "show", "9" * 40).code == 2


def test_piped_message_list_has_the_full_wamid_and_says_how_many_were_left_out(
    waba: Any, db: Database, account_id: int
) -> None:
    add_outbound(db, account_id, 60)

    cut = waba("message", "list")
    few = waba("message", "list", "--limit", "5")
    every = waba("message", "list", "--all")

    _header, *rows = cut.out.splitlines()
    assert len(rows) == 50
    assert rows[0].split("\t")[7] == "wamid.HBgLMTY1MDU1NTAxMjMVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA0000"
    assert "50 of 60 shown (--limit N / --all)" in cut.err
    assert "5 of 60 shown" in few.err
    assert len(every.out.splitlines()) == 61
    assert "shown" not in every.err
    assert len(waba("message", "list", "--all", "--json").json()) == 60
    assert len(waba("message", "list", "--json").json()) == 50
    assert waba("message", "list", "--all", "--limit", "5").code == 2


def test_a_long_list_on_a_terminal_goes_through_the_pager_unless_told_not_to(
    waba: Any, db: Database, account_id: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    add_outbound(db, account_id, 30)
    paged = tmp_path / "paged.txt"
    pager = f"cat > {paged}"

    short = on_a_terminal("message", "list", "--limit", "5", lines=40, pager=pager)
    assert not paged.exists() and len(short.out.splitlines()) >= 7  # fits the screen: printed as is
    long = on_a_terminal("message", "list", lines=20, pager=pager)
    assert long.code == 0, long.err
    assert long.out == ""
    assert len(paged.read_text().splitlines()) == 32
    paged.unlink()
    for args, env in (
        (["--no-pager"], pager),
        ([], "cat"),
        (["--json"], pager),
    ):
        printed = on_a_terminal("message", "list", *args, lines=20, pager=env)
        assert printed.out.count("Your order shipped") == 30, args
        assert not paged.exists(), args
    monkeypatch.setenv("PAGER", pager)
    assert len(waba("message", "list").out.splitlines()) == 31  # piped: never paged
    assert not paged.exists()


def test_a_wide_terminal_shows_the_full_wamid_beside_the_text(waba: Any, db: Database, account_id: int) -> None:
    add_outbound(db, account_id, 2)

    wide = on_a_terminal("message", "list", columns=200)
    narrow = on_a_terminal("message", "list", columns=80)

    assert "wamid.HBgLMTY1MDU1NTAxMjMVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA0001 " in wide.out
    assert "Your order shipped 1" in wide.out
    assert "wamid" not in narrow.out.lower()
    assert all(len(line) <= 80 for line in re.sub(r"\x1b\[[0-9;]*m", "", narrow.out).splitlines())


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
