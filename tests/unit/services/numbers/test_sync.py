"""`waba number sync | list | show | use`, and sending from every number of the WABA afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from sqlmodel import select

from tests.support.numbers import (
    FIRST,
    SECOND,
    THIRD,
    WABA,
    list_numbers,
    meta_number,
    rows,
    second,
    third,
)
from waba_cli.db.engine import Database
from waba_cli.db.models.logs import AccountHealthLog

LIST_KEYS = {"id", "display_phone_number", "verified_name", "quality_rating", "status", "messaging_limit", "throughput"}


def test_sync_follows_every_page_and_stores_every_number(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    route = list_numbers(graph, [meta_number(), second()], [third(is_on_biz_app=True)])

    result = waba("number", "sync", "--page-size", "2", "--json")

    assert result.code == 0, result.err
    assert result.json()["fetched"] == 3
    assert sorted(result.json()["added"]) == [SECOND, THIRD]
    assert route.call_count == 2
    first_request = route.calls[0].request
    assert first_request.url.params["limit"] == "2"
    fields = first_request.url.params["fields"].split(",")
    for name in (
        "name_status",
        "code_verification_status",
        "whatsapp_business_manager_messaging_limit",
        "messaging_limit_tier",
        "platform_type",
        "account_mode",
        "is_on_biz_app",
        "health_status",
    ):
        assert name in fields
    stored = rows(db)
    assert stored[SECOND].phone_number == "+15550134568"
    assert stored[THIRD].is_on_biz_app is True
    assert stored[THIRD].health_status == meta_number(THIRD)["health_status"] | {
        "entities": [{"entity_type": "PHONE_NUMBER", "id": THIRD, "can_send_message": "AVAILABLE"}]
    }
    assert [n for n in stored.values() if n.is_default] == [stored[FIRST]]


def test_list_json_has_the_keys_of_the_contract(waba: Any, synced: Any) -> None:
    listed = waba("number", "list", "--json").json()
    assert [n["id"] for n in listed] == [FIRST, SECOND, THIRD]
    assert all(LIST_KEYS | {"default"} <= set(n) for n in listed)
    assert listed[0] == listed[0] | {
        "display_phone_number": "+1 555-013-4567",
        "quality_rating": "GREEN",
        "status": "CONNECTED",
        "messaging_limit": "TIER_10K",
        "throughput": "STANDARD",
        "default": True,
    }
    table = waba("number", "list")
    assert table.code == 0
    assert table.out.splitlines()[1].startswith("*\t" + FIRST)


def test_a_sync_that_fails_half_way_changes_nothing(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    before = rows(db)
    list_numbers(
        graph,
        [meta_number(quality_rating="RED"), second()],
        {"status": 403, "error": {"message": "(#10) Permission denied", "type": "OAuthException", "code": 10}},
    )

    result = waba("number", "sync", "--json")

    assert result.code == 1
    assert "10" in result.err
    after = rows(db)
    assert set(after) == set(before) == {FIRST}
    assert after[FIRST].quality_rating == before[FIRST].quality_rating
    with db.session() as session:
        assert session.exec(select(AccountHealthLog)).all() == []


def test_sync_logs_changes_and_marks_numbers_meta_no_longer_lists(
    waba: Any, synced: Any, graph: respx.MockRouter, db: Database
) -> None:
    list_numbers(graph, [meta_number(quality_rating="RED", status="FLAGGED"), second(name_status="SHINY_NEW")])

    result = waba("number", "sync", "--json")

    assert result.code == 0, result.err
    assert result.json()["gone"] == [THIRD]
    changes = {(c["id"], c["field"]): (c["from"], c["to"]) for c in result.json()["changed"]}
    assert changes == {
        (FIRST, "quality_rating"): ("GREEN", "RED"),
        (FIRST, "status"): ("CONNECTED", "FLAGGED"),
        (SECOND, "name_status"): ("APPROVED", "SHINY_NEW"),
    }
    stored = rows(db)
    assert stored[THIRD].gone_at is not None  # kept: messages point at it
    assert stored[SECOND].name_status == "SHINY_NEW"  # an unknown value is stored as Meta wrote it
    with db.session() as session:
        log = {(e.phone_number_id, e.check): e for e in session.exec(select(AccountHealthLog)).all()}
    assert log[(FIRST, "number_quality_rating")].status == "CRITICAL"
    assert log[(FIRST, "number_status")].status == "WARNING"
    assert log[(SECOND, "number_name_status")].status == "UNKNOWN"
    assert log[(THIRD, "number_gone")].source == "sync"
    listed = {n["id"]: n for n in waba("number", "list", "--json").json()}
    assert listed[THIRD]["gone"] is True


def test_sync_reads_the_legacy_messaging_limit_and_asks_again_without_a_field_meta_does_not_know(
    waba: Any, account: Any, graph: respx.MockRouter, db: Database
) -> None:
    legacy = meta_number(messaging_limit_tier="TIER_1K")
    del legacy["whatsapp_business_manager_messaging_limit"], legacy["health_status"]

    def answer(request: httpx.Request) -> httpx.Response:
        if "health_status" in request.url.params["fields"]:
            message = (
                "(#100) Tried accessing nonexisting field (health_status) on node type (WhatsAppBusinessPhoneNumber)"
            )
            return httpx.Response(400, json={"error": {"message": message, "type": "OAuthException", "code": 100}})
        return httpx.Response(200, json={"data": [legacy]})

    route = graph.get(f"/{WABA}/phone_numbers").mock(side_effect=answer)

    assert waba("number", "sync").code == 0
    assert route.call_count == 2
    assert rows(db)[FIRST].messaging_limit == "TIER_1K"


def test_show_gives_the_profile_the_doctor_and_the_health_log(waba: Any, synced: Any, graph: respx.MockRouter) -> None:
    list_numbers(graph, [meta_number(), second(quality_rating="YELLOW"), third()])
    assert waba("number", "sync").code == 0
    profile = {"about": "Succulents", "vertical": "RETAIL", "messaging_product": "whatsapp"}
    graph.get(f"/{SECOND}/whatsapp_business_profile").respond(200, json={"data": [profile]})

    shown = waba("number", "show", "+1 (555) 013-4568", "--json")

    assert shown.code == 0, shown.err
    data = shown.json()
    assert data["id"] == SECOND
    assert data["profile"]["about"] == "Succulents"
    assert data["doctor"]["verdict"] == "OK"
    assert [e["detail"] for e in data["health_log"]] == ["+1 555-013-4568: quality rating GREEN -> YELLOW"]
    assert data["registrations_left"] == 10
    text = waba("number", "show", SECOND)
    assert "Succulents" in text.out and "quality rating GREEN -> YELLOW" in text.out


def test_use_makes_another_number_the_sending_default(waba: Any, synced: Any, db: Database) -> None:
    used = waba("number", "use", "15550134569", "--json")
    assert used.code == 0, used.err
    assert used.json()["default"] == THIRD
    assert [n.phone_number_id for n in rows(db).values() if n.is_default] == [THIRD]


def test_an_unknown_number_names_the_account_numbers_and_sync(waba: Any, synced: Any) -> None:
    result = waba("number", "show", "+4930123456789")
    assert result.code == 2
    assert "+15550134568" in result.err and "waba number sync" in result.err


def test_after_sync_every_number_sends_with_from(waba: Any, synced: Any, graph: respx.MockRouter) -> None:
    accepted = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+16505550123", "wa_id": "16505550123"}],
        "messages": [{"id": "wamid.HBgLMTY1MDU1NTAxMjMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}],
    }
    route = graph.post(f"/{THIRD}/messages").respond(200, json=accepted)

    sent = waba("send", "text", "--to", "+16505550123", "--body", "hi", "--from", "+15550134569", "--force", "--json")

    assert sent.code == 0, sent.err
    assert sent.json()["phone_number_id"] == THIRD
    assert route.called


def test_a_number_gone_from_meta_does_not_send(waba: Any, synced: Any, graph: respx.MockRouter) -> None:
    list_numbers(graph, [meta_number(), second()])
    assert waba("number", "sync").code == 0
    refused = waba("send", "text", "--to", "+16505550123", "--body", "hi", "--from", THIRD, "--force")
    assert refused.code == 2
    assert "waba number sync" in refused.err


def test_a_verified_name_with_escape_sequences_is_escaped_in_the_table_and_exact_in_json(
    waba: Any, account: Any, graph: respx.MockRouter
) -> None:
    name = "\x1b]0;owned\x07Acme\x1b[2J\u202e\tCONNECTED"
    list_numbers(graph, [meta_number(verified_name=name)])
    assert waba("number", "sync").code == 0

    table = waba("number", "list")
    listed = waba("number", "list", "--json").json()

    assert table.code == 0, table.err
    header, row = table.out.splitlines()
    assert len(row.split("\t")) == len(header.split("\t"))  # the name's tab did not add a column
    assert "\\x1b]0;owned\\x07Acme\\x1b[2J\\u202e\\tCONNECTED" in row
    assert "\x1b" not in table.out and "\u202e" not in table.out
    assert listed[0]["verified_name"] == name
