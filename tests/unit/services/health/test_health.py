"""`waba health check` through respx: each check's OK, WARNING, CRITICAL and UNKNOWN, Meta's answers
kept for --max-age, the notification of a change (a receiver on loopback), the canary on a fake
clock, and an API that never answers reported UNKNOWN within the timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlmodel import select

from tests.support.health import Meta, blocked, expiring, graph_error, limited, template
from tests.support.numbers import SECOND, meta_number
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import Account
from waba_cli.db.models.health import HealthResult, HealthRun
from waba_cli.db.models.logs import AccountHealthLog
from waba_cli.db.models.messages import Message
from waba_cli.db.models.templates import MessageTemplate
from waba_cli.db.models.webhooks import WebhookEvent


def _config(home: Path, **values: Any) -> None:
    lines = ["[health]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _checks(result: Any) -> dict[str, dict[str, Any]]:
    document = result.json()
    return {c["name"]: c for a in document["accounts"] for c in a["checks"]}


@pytest.fixture
def meta(account: Any, graph: respx.MockRouter) -> Meta:
    return Meta().serve(graph)


def test_a_healthy_account_is_ok_on_every_check(waba: Any, meta: Meta) -> None:
    result = waba("health", "check", "--json")

    assert result.code == 0, result.out + result.err
    document = result.json()
    assert document["status"] == "OK"
    assert [a["account"] for a in document["accounts"]] == ["My Business WhatsApp"]
    names = [c["name"] for c in document["accounts"][0]["checks"]]
    assert names == ["token", "waba", "number:+15550134567", "webhooks", "delivery", "templates", "limits", "flows"]
    assert all(set(c) >= {"name", "status", "detail"} and c["status"] == "OK" for c in _checks(result).values())


# (what Meta says, the check, its status, text in its detail)
CASES: list[tuple[str, Any, str, str, str]] = [
    ("token expires in 3 days", lambda m: m.token.update(expires_at=expiring(3)), "token", "WARNING", "expires in"),
    ("token expires in hours", lambda m: m.token.update(expires_at=expiring(0.2)), "token", "CRITICAL", "hours"),
    (
        "token invalid",
        lambda m: m.token.update(is_valid=False, error={"message": "Session has expired"}),
        "token",
        "CRITICAL",
        "Session has expired",
    ),
    (
        "token without messaging",
        lambda m: m.token.update(scopes=["whatsapp_business_management"]),
        "token",
        "CRITICAL",
        "whatsapp_business_messaging",
    ),
    (
        "debug_token unreachable",
        lambda m: m.failures.update(token=httpx.Response(503)),
        "token",
        "UNKNOWN",
        "debug_token",
    ),
    (
        "waba limited",
        lambda m: m.waba.update(health_status=limited("BUSINESS", "Verify the business.")),
        "waba",
        "WARNING",
        "Verify the business.",
    ),
    (
        "waba blocked",
        lambda m: m.waba.update(
            health_status=blocked("WABA", 141006, "Payment method failed.", "Add a new payment method.")
        ),
        "waba",
        "CRITICAL",
        "Payment method failed. (141006) -> Add a new payment method.",
    ),
    (
        "waba unreadable",
        lambda m: m.failures.update(waba=graph_error(100, "Unsupported get")),
        "waba",
        "UNKNOWN",
        "100",
    ),
    (
        "number quality yellow",
        lambda m: m.numbers[0].update(quality_rating="YELLOW"),
        "number:+15550134567",
        "WARNING",
        "quality YELLOW",
    ),
    (
        "number quality red",
        lambda m: m.numbers[0].update(quality_rating="RED"),
        "number:+15550134567",
        "CRITICAL",
        "quality RED",
    ),
    ("number flagged", lambda m: m.numbers[0].update(status="FLAGGED"), "number:+15550134567", "WARNING", "flagged"),
    (
        "number restricted",
        lambda m: m.numbers[0].update(status="RESTRICTED"),
        "number:+15550134567",
        "CRITICAL",
        "restricted",
    ),
    (
        "number blocked by Meta",
        lambda m: m.numbers[0].update(
            health_status=blocked("PHONE_NUMBER", 141000, "The number is banned.", "Appeal.")
        ),
        "number:+15550134567",
        "CRITICAL",
        "The number is banned.",
    ),
    (
        "numbers unreadable",
        lambda m: m.failures.update(numbers=httpx.Response(500)),
        "number:+15550134567",
        "UNKNOWN",
        "+1",
    ),
    ("app unsubscribed", lambda m: m.apps.clear(), "webhooks", "WARNING", "subscribed_apps"),
    (
        "subscribed apps unreadable",
        lambda m: m.failures.update(subscribed_apps=httpx.Response(503)),
        "webhooks",
        "UNKNOWN",
        "subscribed_apps",
    ),
    ("template paused", lambda m: m.templates.append(template("promo", "PAUSED")), "templates", "WARNING", "PAUSED"),
    (
        "template quality red",
        lambda m: m.templates.append(template("promo", score="RED")),
        "templates",
        "CRITICAL",
        "promo en_US quality RED",
    ),
    (
        "template blocked by Meta",
        lambda m: m.templates.append(
            template("promo", health_status=blocked("MESSAGE_TEMPLATE", 141002, "Not approved.", "Edit it."))
        ),
        "templates",
        "CRITICAL",
        "Not approved. (141002)",
    ),
    (
        "templates unreadable",
        lambda m: m.failures.update(templates=httpx.Response(502)),
        "templates",
        "UNKNOWN",
        "",
    ),
]


@pytest.mark.parametrize(("story", "change", "name", "status", "shown"), CASES, ids=[c[0] for c in CASES])
def test_each_check_says_what_meta_says(
    waba: Any, meta: Meta, story: str, change: Any, name: str, status: str, shown: str
) -> None:
    change(meta)

    result = waba("health", "check", "--json")

    checks = _checks(result)
    assert checks[name]["status"] == status, checks[name]
    assert shown in checks[name]["detail"]
    assert result.code == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[result.json()["status"]]


def test_a_refused_token_is_the_token_check_and_the_rest_are_unknown(waba: Any, meta: Meta) -> None:
    refused = graph_error(190, "Error validating access token: Session has expired.", status=401, subcode=463)
    for call in ("waba", "numbers", "subscribed_apps", "templates"):
        meta.failures[call] = refused

    result = waba("health", "check", "--json")

    assert result.code == 2
    checks = _checks(result)
    assert checks["token"]["status"] == "CRITICAL" and "refused the access token" in checks["token"]["detail"]
    for name in ("waba", "templates", "number:+15550134567"):
        assert checks[name]["status"] == "UNKNOWN" and "skipped" in checks[name]["detail"]


def test_a_messaging_limit_drop_since_the_last_run_is_a_warning(waba: Any, meta: Meta) -> None:
    assert waba("health", "check").code == 0
    meta.numbers[0]["whatsapp_business_manager_messaging_limit"] = "TIER_2K"

    dropped = waba("health", "check", "--max-age", "0", "--json")

    number = _checks(dropped)["number:+15550134567"]
    assert number["status"] == "WARNING" and "TIER_10K -> TIER_2K" in number["detail"]
    assert _checks(waba("health", "check", "--max-age", "0", "--json"))["number:+15550134567"]["status"] == "OK"


def test_a_template_rejected_since_the_last_run_is_a_warning_once(waba: Any, meta: Meta) -> None:
    meta.templates.append(template("promo"))
    assert waba("health", "check").code == 0
    meta.templates[-1]["status"] = "REJECTED"

    first = _checks(waba("health", "check", "--max-age", "0", "--json"))["templates"]
    again = _checks(waba("health", "check", "--max-age", "0", "--json"))["templates"]

    assert first["status"] == "WARNING" and "promo en_US APPROVED -> REJECTED" in first["detail"]
    assert again["status"] == "OK"


def test_delivery_judges_the_failed_share_with_the_top_codes(
    waba: Any, meta: Meta, db: Database, account_id: int, isolated: Path
) -> None:
    _config(isolated, delivery_min_messages=10)
    now = datetime.now(UTC)
    with db.transaction() as session:
        for index in range(20):
            failed = index < 3
            session.add(
                Message(
                    account_id=account_id,
                    direction="out",
                    wamid=f"wamid.{index}",
                    contact="+16505550123",
                    type="text",
                    status="failed" if failed else "delivered",
                    error_code=131026 if failed else None,
                    created_at=now - timedelta(minutes=index),
                )
            )

    checks = _checks(waba("health", "check", "--json"))

    assert checks["delivery"]["status"] == "WARNING"  # 15 %: over 5, under 20
    assert "3 of 20" in checks["delivery"]["detail"] and "131026 x3" in checks["delivery"]["detail"]
    assert checks["delivery"]["value"] == 15.0


def test_limits_warn_at_80_percent_and_are_critical_at_the_limit(
    waba: Any, meta: Meta, db: Database, account_id: int
) -> None:
    with db.transaction() as session:
        row = session.get(Account, account_id)
        assert row is not None
        row.daily_limit = 10
        session.add(row)
        for index in range(8):
            session.add(
                Message(
                    account_id=account_id,
                    direction="out",
                    wamid=f"wamid.l{index}",
                    contact="+1",
                    type="text",
                    status="accepted",
                )
            )

    assert _checks(waba("health", "check", "--json"))["limits"]["status"] == "WARNING"
    with db.transaction() as session:
        for index in range(2):
            session.add(
                Message(
                    account_id=account_id,
                    direction="out",
                    wamid=f"wamid.m{index}",
                    contact="+1",
                    type="text",
                    status="accepted",
                )
            )
    assert _checks(waba("health", "check", "--json"))["limits"]["status"] == "CRITICAL"


def test_webhooks_silence_and_failed_deliveries(
    waba: Any, meta: Meta, db: Database, account_id: int, isolated: Path
) -> None:
    _config(isolated, webhook_silence="6h")
    assert "no webhook delivery" in _checks(waba("health", "check", "--json"))["webhooks"]["detail"]
    with db.transaction() as session:
        session.add(
            WebhookEvent(
                account_id=account_id,
                body=b"{}",
                body_sha256="0" * 64,
                status="failed",
                field="messages",
                received_at=datetime.now(UTC) - timedelta(hours=7),
            )
        )

    webhooks = _checks(waba("health", "check", "--json"))["webhooks"]

    assert webhooks["status"] == "WARNING"
    assert "7 h ago" in webhooks["detail"] and "1 delivery(ies) failed" in webhooks["detail"]


def test_an_active_flow_alert_is_a_warning_until_deactivated(
    waba: Any, meta: Meta, db: Database, account_id: int
) -> None:
    alert = {"event": "ENDPOINT_AVAILABILITY", "flow_id": "77", "alert_state": "ACTIVATED", "message": "down"}
    with db.transaction() as session:
        session.add(
            AccountHealthLog(account_id=account_id, source="webhook", check="flows", status="WARNING", data=alert)
        )
    assert _checks(waba("health", "check", "--json"))["flows"]["status"] == "WARNING"
    with db.transaction() as session:
        session.add(
            AccountHealthLog(
                account_id=account_id,
                source="webhook",
                check="flows",
                status="OK",
                data={**alert, "alert_state": "DEACTIVATED"},
                checked_at=datetime.now(UTC) + timedelta(seconds=1),
            )
        )
    assert _checks(waba("health", "check", "--json"))["flows"]["status"] == "OK"


def test_answers_younger_than_max_age_are_reused_and_said_so(waba: Any, meta: Meta) -> None:
    first = waba("health", "check", "--json")
    asked = meta.calls()
    assert asked == 5 and not any(c["cached"] for c in _checks(first).values())

    second = waba("health", "check", "--json")

    assert meta.calls() == asked  # nothing asked again
    checks = _checks(second)
    assert all(checks[name]["cached"] for name in ("token", "waba", "number:+15550134567", "webhooks", "templates"))
    assert "(cached" in waba("health", "check").out
    waba("health", "check", "--max-age", "0")
    assert meta.calls() == 2 * asked


def test_a_bad_max_age_is_unknown_with_a_line_for_the_monitor(waba: Any, meta: Meta) -> None:
    result = waba("health", "check", "--max-age", "soon")
    assert result.code == 3
    assert result.out.startswith("WABA UNKNOWN - --max-age: 'soon' is not a duration")
    assert meta.calls() == 0


def test_no_key_is_unknown_not_exit_2(waba: Any, meta: Meta, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WABA_ENCRYPTION_KEY")
    result = waba("health", "check")
    assert result.code == 3
    assert result.out.startswith("WABA UNKNOWN - ")


def test_each_run_and_each_change_is_stored(waba: Any, meta: Meta, db: Database) -> None:
    waba("health", "check")
    meta.numbers[0]["quality_rating"] = "YELLOW"
    changed = waba("health", "check", "--max-age", "0")

    assert "changed: My Business WhatsApp number:+15550134567 OK -> WARNING" in changed.out
    with db.session() as session:
        runs = session.exec(select(HealthRun)).all()
        assert [r.status for r in runs] == ["OK", "WARNING"] and runs[1].changes == 1
        assert len(session.exec(select(HealthResult)).all()) == 16
        logged = session.exec(select(AccountHealthLog).where(AccountHealthLog.source == "check")).all()
    assert [(e.check, e.status, e.phone_number_id) for e in logged] == [
        ("number:+15550134567", "WARNING", "109283746501928")
    ]
    history = waba("health", "history", "--json").json()["transitions"]
    assert [(t["check"], t["from"], t["to"], t["current"]) for t in history] == [
        ("number:+15550134567", "OK", "WARNING", True)
    ]
    assert waba("health", "history", "--check", "token").err.startswith("no status change since")


def test_ignored_numbers_are_not_checked(waba: Any, meta: Meta, isolated: Path) -> None:
    meta.numbers.append(meta_number(SECOND, "15550134568", status="PENDING"))
    assert _checks(waba("health", "check", "--json"))["number:+15550134568"]["status"] == "WARNING"
    _config(isolated, ignore_numbers=["+15550134568"])
    assert "number:+15550134568" not in _checks(waba("health", "check", "--json"))


# -- the notification ------------------------------------------------------------------------------


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses = statuses
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.bodies.append(json.loads(body))
                status = owner.statuses.pop(0) if owner.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/T0/SECRET"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver([])
    yield found
    found.close()


def test_a_change_is_notified_once(waba: Any, meta: Meta, receiver: Receiver, db: Database) -> None:
    assert waba("health", "check", "--notify", receiver.url).code == 0
    assert receiver.bodies == []  # the first run, all OK: nothing to tell
    meta.numbers[0]["quality_rating"] = "RED"

    changed = waba("health", "check", "--max-age", "0", "--notify", receiver.url)
    same = waba("health", "check", "--max-age", "0", "--notify", receiver.url)

    assert changed.code == same.code == 2
    assert len(receiver.bodies) == 1
    sent = receiver.bodies[0]
    assert sent["text"].startswith("WABA CRITICAL - 1 critical: +1 555-013-4567: quality RED")
    assert sent["status"] == "CRITICAL"
    assert sent["changes"] == [
        {
            "account": "My Business WhatsApp",
            "check": "number:+15550134567",
            "from": "OK",
            "to": "CRITICAL",
            "detail": sent["changes"][0]["detail"],
        }
    ]
    assert "notified http://127.0.0.1:" in changed.err and "SECRET" not in changed.err
    with db.session() as session:
        runs = session.exec(select(HealthRun).order_by(HealthRun.id)).all()  # type: ignore[arg-type]
    assert runs[1].notified_at is not None and runs[2].notified_at is None


def test_a_failed_notification_is_retried_then_reported_not_fatal(waba: Any, meta: Meta) -> None:
    failing = Receiver([500, 500, 500])
    try:
        meta.numbers[0]["quality_rating"] = "YELLOW"
        result = waba("health", "check", "--notify", failing.url)
    finally:
        failing.close()
    assert result.code == 1  # the accounts' status, not the chat's
    assert len(failing.bodies) == 3
    assert "failed after 3 attempt(s): HTTP 500" in result.err


# -- an API that never answers ---------------------------------------------------------------------


def test_an_api_that_never_answers_is_unknown_within_the_timeout(
    waba: Any, account: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)  # accepts connections, never answers
    try:
        monkeypatch.setenv("WABA_GRAPH_BASE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        _config(isolated, request_timeout=0.5)
        started = time.monotonic()
        result = waba("health", "check", "--json")
        took = time.monotonic() - started
    finally:
        silent.close()
    assert result.code == 3
    assert took < 5
    checks = _checks(result)
    assert checks["token"]["status"] == "UNKNOWN" and "did not answer" in checks["token"]["detail"]
    assert checks["delivery"]["status"] == "OK"  # what the store knows is still checked


# -- prometheus ------------------------------------------------------------------------------------


def test_prometheus_output_parses_back(waba: Any, meta: Meta, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    meta.numbers[0]["quality_rating"] = "YELLOW"
    printed = waba("health", "check", "--format", "prometheus")
    path = tmp_path / "textfile" / "waba.prom"
    path.parent.mkdir()
    written = waba("health", "check", "--format", "prometheus", "--textfile", str(path))

    assert printed.code == written.code == 1
    assert written.out == ""
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["waba.prom"]  # no temporary file left
    for text in (printed.out, path.read_text()):
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        account = ("account", "My Business WhatsApp")
        assert samples[("waba_health_status", ())] == 1
        assert samples[("waba_health_check_status", (account, ("check", "number:+15550134567")))] == 1
        assert samples[("waba_health_check_status", (account, ("check", "token")))] == 0
        assert samples[("waba_health_last_run_timestamp_seconds", ())] > 1.7e9


# -- the canary, on a fake clock -------------------------------------------------------------------


class FakeTime:
    def __init__(self, on_sleep: Any = None) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        self.slept = 0.0
        self.on_sleep = on_sleep

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)
        if self.on_sleep is not None:
            self.on_sleep(self)


def _canary_world(graph: respx.MockRouter, db: Database, account_id: int) -> respx.Route:
    with db.transaction() as session:
        session.add(
            MessageTemplate(
                account_id=account_id,
                name="hello_world",
                language="en_US",
                category="UTILITY",
                status="APPROVED",
                template_id="1304694804498701",
                components=[{"type": "BODY", "text": "Hello World"}],
            )
        )
    return graph.post("/109283746501928/messages").respond(
        200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.CANARY"}]}
    )


def _run_canary(fake: FakeTime) -> Any:
    from waba_cli.services.context import CommandContext
    from waba_cli.services.health.check import CheckRequest, check_health
    from waba_cli.settings import load_settings

    ctx = CommandContext(load_settings())
    try:
        request = CheckRequest(
            canary_to="+15551230001", canary_template="hello_world", clock=fake.clock, sleep=fake.sleep
        )
        return check_health(ctx, request)
    finally:
        ctx.close()


def test_the_canary_is_ok_once_its_delivered_status_is_stored(
    meta: Meta, graph: respx.MockRouter, db: Database, account_id: int
) -> None:
    sent = _canary_world(graph, db, account_id)

    def deliver(fake: FakeTime) -> None:
        if fake.slept >= 3:
            with db.transaction() as session:
                row = session.exec(select(Message).where(Message.wamid == "wamid.CANARY")).one()
                row.status = "delivered"
                session.add(row)

    fake = FakeTime(deliver)
    started = time.monotonic()
    report = _run_canary(fake)

    canary = next(c for a in report.accounts for c in a.checks if c.name == "canary")
    assert canary.status == "OK" and "hello_world to +15551230001 delivered in 3.0 s" in canary.detail
    assert sent.call_count == 1
    assert time.monotonic() - started < 5  # the fake clock, not real time


def test_a_canary_never_delivered_is_critical_at_the_timeout(
    meta: Meta, graph: respx.MockRouter, db: Database, account_id: int
) -> None:
    _canary_world(graph, db, account_id)
    fake = FakeTime()

    report = _run_canary(fake)

    canary = next(c for a in report.accounts for c in a.checks if c.name == "canary")
    assert canary.status == "CRITICAL" and "not delivered within 60 s (last status: accepted)" in canary.detail
    assert 59 <= fake.slept <= 61
    assert report.exit_code == 2


def test_a_canary_without_a_template_is_unknown(waba: Any, meta: Meta) -> None:
    result = waba("health", "check", "--canary", "+15551230001", "--json")
    assert result.code == 3
    assert "no canary template" in _checks(result)["canary"]["detail"]
