"""`waba send bulk`: a campaign from a CSV, told as the operator lives it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from tests.support.campaigns import FakeMeta, FakeTime, order_csv, phones, recipients, write_csv
from tests.support.messaging import PNID, add_inbound, outbound
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import PhoneNumber
from waba_cli.db.models.campaigns import Campaign
from waba_cli.db.models.logs import ApiCall
from waba_cli.db.models.messages import Message, MessageStatus
from waba_cli.services.campaigns import runner

SUMMARY_KEYS = ("campaign", "total", "sent", "failed", "skipped", "in_doubt")


def summary_of(result: Any) -> dict[str, Any]:
    data = result.json()
    return {key: data[key] for key in SUMMARY_KEYS}


def bulk(waba: Any, csv_path: Path, *extra: str) -> Any:
    return waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "0", "--json", *extra)


# -- sending ---------------------------------------------------------------------------------------


def test_bulk_template_sends_one_request_per_row_and_records_each(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(5)

    result = bulk(waba, order_csv(tmp_path, numbers))

    assert result.code == 0, result.err
    assert summary_of(result) == {
        "campaign": "customers-order_update",
        "total": 5,
        "sent": 5,
        "failed": 0,
        "skipped": 0,
        "in_doubt": 0,
    }
    assert sorted(meta.to()) == numbers
    first = next(r for r in meta.requests if r["to"] == numbers[0])
    assert first["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana0"}, {"type": "text", "text": "880"}]}
        ],
    }
    assert first["messaging_product"] == "whatsapp"
    assert first["biz_opaque_callback_data"].startswith("waba-campaign:")
    rows = recipients(db, "customers-order_update")
    assert [r.state for r in rows] == ["accepted"] * 5
    messages = outbound(db)
    assert {m.status for m in messages} == {"accepted"}
    assert {m.campaign for m in messages} == {"customers-order_update"}
    assert messages[0].text == "Order update\n\nHi Ana0, your order 880 has shipped."
    assert sorted(m.wamid or "" for m in messages) == sorted(r.wamid or "" for r in rows)


def test_the_batched_writes_read_back_as_the_orm_writes_them(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    # the send loop writes through the driver's executemany: dates, JSON and NULLs must come back whole
    numbers = phones(3)
    before = datetime.now(UTC)

    assert bulk(waba, order_csv(tmp_path, numbers)).code == 0

    sent = {r["to"]: r for r in meta.requests}
    for message in outbound(db):
        request = sent[message.contact]
        assert message.payload == request
        assert message.biz_opaque_callback_data == request["biz_opaque_callback_data"]
        assert before <= message.created_at <= message.updated_at <= datetime.now(UTC)
        assert message.error_code is None and message.error_details is None
    with db.session() as session:
        calls = session.exec(select(ApiCall).where(ApiCall.endpoint == "/{id}/messages")).all()
    assert [(c.method, c.status_code, c.error_code, c.attempt) for c in calls] == [("POST", 200, None, 1)] * 3
    assert all(before <= c.at <= datetime.now(UTC) and c.latency_ms >= 0 for c in calls)
    assert {r.state for r in recipients(db, "customers-order_update")} == {"accepted"}


def test_each_message_is_recorded_queued_before_its_request_goes_out(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    seen: list[tuple[str, str | None]] = []

    def recorded_first(body: dict[str, Any]) -> None:
        with db.session() as session:
            row = session.exec(
                select(Message).where(Message.biz_opaque_callback_data == body["biz_opaque_callback_data"])
            ).one()
            seen.append((row.status, row.wamid))

    meta.hook = recorded_first

    assert bulk(waba, order_csv(tmp_path, phones(4))).code == 0

    assert seen == [("queued", None)] * 4
    assert {m.status for m in outbound(db)} == {"accepted"}


def test_a_recipient_backed_off_by_131056_keeps_the_refused_attempt_on_record(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(2)
    meta.fail(numbers[0], 131056)

    assert bulk(waba, order_csv(tmp_path, numbers)).code == 0

    attempts = [(m.status, m.error_code) for m in outbound(db) if m.contact == numbers[0]]
    assert attempts == [("failed", 131056), ("accepted", None)]


def test_bulk_named_template_takes_columns_by_variable_name(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "vip.csv", "code,phone,first_name", ["WELCOME25,+15550001111,Jessica"])

    result = waba("send", "bulk", "--csv", str(csv_path), "--template", "welcome", "--rate", "0", "--json")

    assert result.code == 0, result.err
    assert meta.requests[0]["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Jessica"},
                {"type": "text", "parameter_name": "code", "text": "WELCOME25"},
            ],
        }
    ]


def test_bulk_text_skips_contacts_outside_the_window_unless_forced(
    waba: Any, meta: FakeMeta, db: Database, account_id: int, tmp_path: Path
) -> None:
    inside, outside, stale = phones(3)
    add_inbound(db, account_id, inside)
    add_inbound(db, account_id, stale, age=timedelta(hours=30))
    csv_path = write_csv(tmp_path / "helpdesk.csv", "phone", [inside, outside, stale])
    command = ("send", "bulk", "--csv", str(csv_path), "--body", "We are open today", "--rate", "0", "--json")

    first = waba(*command)

    assert first.code == 0, first.err
    assert meta.to() == [inside]
    assert meta.requests[0]["text"] == {"preview_url": False, "body": "We are open today"}
    assert first.json()["outside_window"] == 2
    assert [(p["line"], p["phone"]) for p in first.json()["problems"]] == [(3, outside), (4, stale)]
    assert all("outside the 24-hour customer-service window" in p["reason"] for p in first.json()["problems"])
    assert summary_of(first) | {"campaign": "-"} == {
        "campaign": "-",
        "total": 3,
        "sent": 1,
        "failed": 0,
        "skipped": 2,
        "in_doubt": 0,
    }

    forced = waba(*command, "--force")

    assert forced.code == 0, forced.err
    assert sorted(meta.to()) == sorted([inside, outside, stale])
    assert forced.json()["sent"] == 2


def test_contacts_outside_the_window_are_named_in_the_plan_and_in_the_human_output(
    waba: Any, meta: FakeMeta, db: Database, account_id: int, tmp_path: Path
) -> None:
    inside, outside = phones(2)
    add_inbound(db, account_id, inside)
    csv_path = write_csv(tmp_path / "ow.csv", "phone", [outside, inside])
    command = ("send", "bulk", "--csv", str(csv_path), "--body", "We are open today", "--rate", "0")

    plan = waba(*command, "--dry-run", "--json")
    dry = waba(*command, "--dry-run")
    sent = waba(*command)

    assert plan.code == dry.code == sent.code == 0, (plan.err, dry.err, sent.err)
    assert [(p["line"], p["phone"]) for p in plan.json()["problems"]] == [(2, outside)]
    assert plan.json()["outside_window"] == 1
    for result in (dry, sent):
        assert f"line 2: {outside}: outside the 24-hour customer-service window" in result.err
        assert "send an approved template instead, or --force" in result.err
    assert meta.to() == [inside]


# -- the CSV: line numbers, duplicates, invalid rows, dry run --------------------------------------


def test_dry_run_reports_the_plan_with_line_numbers_and_sends_nothing(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(3)
    csv_path = write_csv(
        tmp_path / "spring.csv",
        "phone,1,2",
        [
            f"{numbers[0]},Ana,8801",  # line 2
            "not a number,Bo,8802",  # line 3
            f"{numbers[1]},Cy,8803",  # line 4
            "+1 (555) 000-0000,Di,8804",  # line 5: same number as line 2, other notation
            f"{numbers[2]},,8805",  # line 6: empty value
        ],
    )

    result = bulk(waba, csv_path, "--dry-run")

    assert result.code == 0, result.err
    plan = result.json()
    assert plan["dry_run"] is True
    assert {k: plan[k] for k in ("total", "valid", "invalid", "duplicate", "already_sent", "to_send", "sent")} == {
        "total": 5,
        "valid": 2,
        "invalid": 2,
        "duplicate": 1,
        "already_sent": 0,
        "to_send": 2,
        "sent": 0,
    }
    by_line = {p["line"]: p for p in plan["problems"]}
    assert sorted(by_line) == [3, 5, 6]
    assert by_line[5]["first_line"] == 2
    assert "duplicate of line 2" in by_line[5]["reason"]
    assert "empty" in by_line[6]["reason"]
    assert plan["example_request"]["to"] == numbers[0]
    assert meta.requests == []
    with db.session() as session:
        assert session.exec(select(Campaign)).all() == []


def add_failure(db: Database, account_id: int, contact: str, code: int, *, delivered_after: bool = False) -> None:
    """An earlier message to ``contact`` failed with ``code`` (and, optionally, a later one was delivered)."""
    with db.transaction() as session:
        failed_at = datetime.now(UTC) - timedelta(days=2)
        session.add(
            Message(
                account_id=account_id, phone_number_id=PNID, direction="out", contact=contact, type="template",
                status="failed", error_code=code, created_at=failed_at,
            )
        )  # fmt: skip
        if delivered_after:
            session.add(
                Message(
                    account_id=account_id, phone_number_id=PNID, direction="out", contact=contact, type="template",
                    status="delivered", created_at=failed_at + timedelta(days=1),
                )
            )  # fmt: skip


def test_contacts_whose_last_message_failed_131050_or_131026_are_warned_about_but_sent_to(
    waba: Any, meta: FakeMeta, db: Database, account_id: int, templates: None, tmp_path: Path
) -> None:
    stopped, gone, reached_again, other = phones(4)
    add_failure(db, account_id, stopped, 131050)
    add_failure(db, account_id, gone, 131026)
    add_failure(db, account_id, reached_again, 131026, delivered_after=True)
    add_failure(db, account_id, other, 131000)  # not a reason to expect failure
    csv_path = order_csv(tmp_path, [stopped, gone, reached_again, other])

    plan = bulk(waba, csv_path, "--dry-run")
    human = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run")
    run = bulk(waba, csv_path)

    assert plan.code == human.code == run.code == 0, (plan.err, human.err, run.err)
    for data in (plan.json(), run.json()):
        assert data["likely_to_fail"] == 2
        by_line = {w["line"]: w for w in data["warnings"]}
        assert sorted(by_line) == [2, 3]
        assert by_line[2]["phone"] == stopped
        assert "stopped marketing messages" in by_line[2]["reason"]
        assert "131050" in by_line[2]["reason"]
        assert "131026" in by_line[3]["reason"]
        assert data["problems"] == []
    assert "2 recipient(s) will likely not get it" in human.err
    assert f"line 2: {stopped}: stopped marketing messages" in human.err
    assert "likely to fail" in human.out
    assert sorted(meta.to()) == sorted([stopped, gone, reached_again, other])  # a warning, not a block


def test_every_row_invalid_says_where_the_rows_are_in_both_modes(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "allbad.csv", "phone,1,2", ["nobody,1,2", "12,3,4"])
    command = ("send", "bulk", "--csv", str(csv_path), "--template", "order_update")

    as_json = waba(*command, "--json")
    human = waba(*command)

    assert as_json.code == human.code == 2
    assert "listed above" not in as_json.err
    assert "line 2 (nobody):" in as_json.err
    assert "line 2: nobody:" in human.err  # listed first, then the line that refers to it
    assert "fix the rows listed above" in human.err
    assert meta.requests == []


def test_a_row_whose_filled_in_body_is_too_long_is_reported_with_its_length(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    # "Hi {{1}}, your order {{2}} has shipped.": 29 characters besides the values
    numbers = phones(3)
    csv_path = write_csv(
        tmp_path / "long.csv",
        "phone,1,2",
        [f"{numbers[0]},{'A' * 992},883", f"{numbers[1]},{'B' * 993},883", f"{numbers[2]},Cy,8803"],
    )

    plan = bulk(waba, csv_path, "--dry-run").json()

    assert (plan["valid"], plan["invalid"]) == (2, 1)
    [problem] = plan["problems"]
    assert problem["line"] == 3
    assert "the filled-in body is 1025 characters" in problem["reason"]
    assert meta.requests == []


def test_dry_run_after_a_run_counts_recipients_already_sent(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    numbers = phones(4)
    assert bulk(waba, order_csv(tmp_path, numbers[:3])).code == 0

    plan = bulk(waba, order_csv(tmp_path, numbers), "--dry-run").json()

    assert (plan["already_sent"], plan["to_send"], plan["skipped"]) == (3, 1, 3)
    assert len(meta.requests) == 3


def test_human_output_lists_skipped_rows_by_line(waba: Any, meta: FakeMeta, templates: None, tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "c.csv", "phone,1,2", ["+15550000001,A,1", "12,B,2", "+15550000001,C,3"])

    result = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "0")

    assert result.code == 0, result.err
    assert "line 3: 12:" in result.err
    assert "line 4: +15550000001: duplicate of line 2" in result.err
    assert "campaign c-order_update" in result.out


def test_missing_template_column_is_refused_before_anything_is_written(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "c.csv", "phone,1", ["+15550000001,Ana"])

    result = bulk(waba, csv_path)

    assert result.code == 2
    assert "no column for the template's variable(s) 2" in result.err
    assert meta.requests == []
    with db.session() as session:
        assert session.exec(select(Campaign)).all() == []


@pytest.mark.parametrize(
    ("header", "rows", "expected"),
    [
        ("name,1,2", ["Ana,1,2"], "no phone column"),
        ("phone,1,2", ["nobody,1,2", "12,3,4"], "no valid recipient"),
        ("", [], "is empty"),
    ],
)
def test_unusable_csv_exits_2_and_sends_nothing(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path, header: str, rows: list[str], expected: str
) -> None:
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("\n".join([header, *rows]) if header else "", encoding="utf-8")

    result = bulk(waba, csv_path)

    assert result.code == 2
    assert expected in result.err
    assert meta.requests == []


def test_template_that_is_not_approved_is_refused(
    waba: Any, meta: FakeMeta, db: Database, account_id: int, tmp_path: Path
) -> None:
    from tests.support.campaigns import ORDER_UPDATE
    from tests.support.messaging import add_template

    add_template(db, account_id, "order_update", ORDER_UPDATE, status="PENDING")

    result = bulk(waba, order_csv(tmp_path, phones(1)))

    assert result.code == 2
    assert "cannot be sent" in result.err
    assert meta.requests == []


def test_missing_csv_file_exits_2(waba: Any, templates: None, tmp_path: Path) -> None:
    result = bulk(waba, tmp_path / "nowhere.csv")

    assert result.code == 2
    assert "cannot read" in result.err


# -- pacing ----------------------------------------------------------------------------------------


def test_rate_paces_requests_with_the_token_bucket(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path, fake_time: FakeTime
) -> None:
    stamps: list[float] = []
    meta.hook = lambda _body: stamps.append(fake_time.clock())

    result = waba(
        "send", "bulk", "--csv", str(order_csv(tmp_path, phones(21))), "--template", "order_update",
        "--rate", "50", "--json",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.json()["rate_limit"] == 50
    # 21 requests at 50/s: each one 20 ms after the last (nothing saved up in the bucket for a burst)
    assert {round(b - a, 9) for a, b in itertools.pairwise(stamps)} == {0.02}


def test_default_rate_is_the_numbers_throughput(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    csv_path = order_csv(tmp_path, phones(1))
    unknown = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run", "--json")
    with db.transaction() as session:
        number = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number_id == PNID)).one()
        number.throughput_level = "HIGH"
    upgraded = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run", "--json")

    assert unknown.json()["rate_limit"] == 80
    assert upgraded.json()["rate_limit"] == 1000


def test_a_number_shared_with_the_business_app_is_paced_at_20_per_second(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    with db.transaction() as session:
        number = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number_id == PNID)).one()
        number.throughput_level = "HIGH"  # coexistence wins over the level
        number.is_on_biz_app = True
    csv_path = order_csv(tmp_path, phones(1))

    plan = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run", "--json")
    chosen = waba(
        "send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "5", "--dry-run", "--json"
    )

    assert plan.code == 0, plan.err
    assert plan.json()["rate_limit"] == 20
    assert chosen.json()["rate_limit"] == 5  # --rate still decides


def test_throttling_130429_slows_down_and_retries_the_same_recipient(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    numbers = phones(4)
    meta.fail(numbers[1], 130429, 130429)

    result = waba(
        "send", "bulk", "--csv", str(order_csv(tmp_path, numbers)), "--template", "order_update",
        "--rate", "200", "--json",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert summary_of(result)["sent"] == 4
    assert meta.to().count(numbers[1]) == 3


def test_pair_rate_limit_131056_backs_off_that_recipient_only(
    waba: Any,
    meta: FakeMeta,
    db: Database,
    templates: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_time: FakeTime,
) -> None:
    monkeypatch.setattr(runner, "PAIR_BACKOFF_UNIT", 1.0)  # production's: 1 s, then 4 s (of the fake clock)
    numbers = phones(6)
    meta.fail(numbers[0], 131056, 131056)

    result = bulk(waba, order_csv(tmp_path, numbers), "--concurrency", "1")

    assert result.code == 0, result.err
    assert summary_of(result)["sent"] == 6
    sent_to = meta.to()
    assert sent_to.count(numbers[0]) == 3
    # with one request at a time, the others went out while the first one waited
    assert sent_to[:6] == [numbers[0], *numbers[1:]]
    assert sent_to[6:] == [numbers[0], numbers[0]]
    # and it waited 1, then 4 units, nothing else
    assert fake_time.slept == pytest.approx([1.0, 4.0])


def test_spam_limit_131048_stops_the_campaign_and_a_rerun_finishes_it_without_duplicates(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(8)
    csv_path = order_csv(tmp_path, numbers)
    meta.fail(numbers[2], 131048)

    stopped = bulk(waba, csv_path, "--concurrency", "1")

    assert stopped.code == 1
    data = stopped.json()
    assert data["stopped"] is True
    assert "131048" in data["reason"]
    assert data["sent"] == 2
    assert data["pending"] == 6
    assert "campaign stopped" in stopped.err

    resumed = bulk(waba, csv_path)

    assert resumed.code == 0, resumed.err
    assert summary_of(resumed) | {"campaign": "-"} == {
        "campaign": "-",
        "total": 8,
        "sent": 6,
        "failed": 0,
        "skipped": 2,
        "in_doubt": 0,
    }
    accepted_to = [m.contact for m in outbound(db) if m.status == "accepted"]
    assert sorted(accepted_to) == numbers


def test_a_refused_recipient_is_failed_with_metas_code_and_the_campaign_goes_on(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(3)
    meta.fail(numbers[1], 131026)

    result = bulk(waba, order_csv(tmp_path, numbers))

    assert result.code == 0
    assert (result.json()["sent"], result.json()["failed"]) == (2, 1)
    failed = [m for m in outbound(db) if m.status == "failed"]
    assert [(m.contact, m.error_code) for m in failed] == [(numbers[1], 131026)]
    assert {r.phone: r.state for r in recipients(db, "customers-order_update")}[numbers[1]] == "failed"


@pytest.mark.parametrize(
    ("code", "status", "hint"),
    [
        (190, 401, "waba account update"),  # the token expired or was revoked
        (10, 403, "grant the token"),  # a permission was withdrawn
        (200, 403, "grant the token"),
        (131031, 403, "locked"),  # the business account was locked
        (368, 403, "policy violation"),
        (133010, 400, None),  # the sending number is not registered
        (132015, 400, None),  # the template was paused
    ],
)
def test_an_error_about_the_token_or_account_stops_the_campaign_with_the_rest_pending(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path, code: int, status: int, hint: str | None
) -> None:
    numbers = phones(8)
    csv_path = order_csv(tmp_path, numbers)
    for number in numbers[2:]:  # from the third send on, every request gets it
        meta.fail(number, code, status=status)

    stopped = bulk(waba, csv_path, "--concurrency", "1")

    assert stopped.code == 1
    data = stopped.json()
    assert data["stopped"] is True
    assert (data["sent"], data["failed"], data["pending"], data["in_doubt"]) == (2, 0, 6, 0)
    assert f"Graph API error {code}" in data["reason"]
    if hint is not None:
        assert hint in data["reason"]
    assert len(meta.requests) == 3  # stopped at the first one, not tried on everyone
    assert "campaign stopped" in stopped.err
    assert {r.state for r in recipients(db, "customers-order_update")} == {"accepted", "pending"}

    meta.script.clear()  # a new token, the account unlocked ...
    resumed = bulk(waba, csv_path)

    assert resumed.code == 0, resumed.err
    assert (resumed.json()["sent"], resumed.json()["failed"]) == (6, 0)
    assert sorted(m.contact for m in outbound(db) if m.status == "accepted") == numbers


@pytest.mark.parametrize(("code", "status"), [(131000, 500), (131057, 503), (80007, 400)])
def test_a_retryable_error_that_outlasts_its_retries_stops_the_campaign_instead_of_failing_everyone(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path, code: int, status: int
) -> None:
    """An outage, maintenance or the account's rate limit: not about the recipient, so nobody is failed."""
    numbers = phones(5)
    meta.fail(numbers[2], *[code] * (runner.MAX_ATTEMPTS + 1), status=status)

    stopped = bulk(waba, order_csv(tmp_path, numbers), "--concurrency", "1")

    assert stopped.code == 1
    data = stopped.json()
    assert (data["stopped"], data["sent"], data["failed"], data["pending"]) == (True, 2, 0, 3)
    assert f"Graph API error {code}" in data["reason"]
    assert len(meta.requests) == 2 + runner.MAX_ATTEMPTS + 1


def test_a_request_that_never_left_is_retried_not_in_doubt(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(3)
    broken = {numbers[1]: 2}  # its first two requests fail before they are written

    def hook(body: dict[str, Any]) -> None:
        if broken.get(body["to"]):
            broken[body["to"]] -= 1
            meta.requests.pop()
            raise httpx.WriteError("ClientOSError: Can not write request body")

    meta.hook = hook

    result = bulk(waba, order_csv(tmp_path, numbers))

    assert result.code == 0, result.err
    assert summary_of(result) | {"campaign": "-"} == {
        "campaign": "-",
        "total": 3,
        "sent": 3,
        "failed": 0,
        "skipped": 0,
        "in_doubt": 0,
    }
    assert sorted(meta.to()) == sorted(numbers)


def test_a_network_that_stays_down_stops_the_campaign_with_recipients_pending(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    def hook(_body: dict[str, Any]) -> None:
        meta.requests.pop()
        raise httpx.ConnectError("connection refused")

    meta.hook = hook
    numbers = phones(4)

    stopped = bulk(waba, order_csv(tmp_path, numbers), "--concurrency", "1")

    assert stopped.code == 1
    data = stopped.json()
    assert (data["stopped"], data["sent"], data["failed"], data["in_doubt"], data["pending"]) == (True, 0, 0, 0, 4)
    assert "ConnectError" in data["reason"]
    assert {r.state for r in recipients(db, "customers-order_update")} == {"pending"}
    assert all(m.status == "failed" and "not sent" in (m.error_details or "") for m in outbound(db))


# -- resuming --------------------------------------------------------------------------------------


class PowerCut(Exception):  # noqa: N818 - what happens to the process
    pass


def crash_after(meta: FakeMeta, requests: int) -> None:
    """The process dies while the request number ``requests`` is in flight (Meta got it)."""

    def hook(_body: dict[str, Any]) -> None:
        if len(meta.requests) == requests:
            raise PowerCut

    meta.hook = hook


def test_rerun_after_a_crash_sends_only_to_recipients_never_attempted(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(10)
    csv_path = order_csv(tmp_path, numbers)
    crash_after(meta, 4)

    crashed = bulk(waba, csv_path, "--concurrency", "1")
    assert crashed.code == 1
    meta.hook = None

    resumed = bulk(waba, csv_path, "--concurrency", "1")

    assert resumed.code == 0, resumed.err
    assert summary_of(resumed) | {"campaign": "-"} == {
        "campaign": "-",
        "total": 10,
        "sent": 6,
        "failed": 0,
        "skipped": 3,
        "in_doubt": 1,
    }
    # the in-doubt recipient got its one request before the crash and none after
    assert sorted(meta.to()) == numbers
    states = {r.phone: r.state for r in recipients(db, "customers-order_update")}
    assert states[numbers[3]] == "in_doubt"
    queued = [m for m in outbound(db) if m.contact == numbers[3]]
    assert [m.status for m in queued] == ["queued"]
    assert "in doubt" in resumed.err


def test_in_doubt_recipient_is_tied_to_its_wamid_by_a_status_webhook(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(3)
    csv_path = order_csv(tmp_path, numbers)
    crash_after(meta, 2)
    assert bulk(waba, csv_path, "--concurrency", "1").code == 1
    meta.hook = None
    callback = meta.requests[1]["biz_opaque_callback_data"]
    with db.transaction() as session:  # what serve-webhook stores for Meta's "delivered"
        session.add(
            MessageStatus(
                wamid="wamid.LATE",
                status="delivered",
                status_at=datetime.now(UTC),
                recipient_id=numbers[1].lstrip("+"),
                biz_opaque_callback_data=callback,
            )
        )

    resumed = bulk(waba, csv_path, "--concurrency", "1")

    assert resumed.code == 0, resumed.err
    assert (resumed.json()["in_doubt"], resumed.json()["reconciled"]) == (0, 1)
    assert meta.to().count(numbers[1]) == 1
    states = {r.phone: (r.state, r.wamid) for r in recipients(db, "customers-order_update")}
    assert states[numbers[1]] == ("accepted", "wamid.LATE")
    message = next(m for m in outbound(db) if m.contact == numbers[1])
    assert (message.wamid, message.status) == ("wamid.LATE", "delivered")


def test_resend_in_doubt_sends_once_more_to_in_doubt_recipients(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(3)
    csv_path = order_csv(tmp_path, numbers)
    crash_after(meta, 2)
    assert bulk(waba, csv_path, "--concurrency", "1").code == 1
    meta.hook = None
    assert bulk(waba, csv_path).json()["in_doubt"] == 1

    resent = bulk(waba, csv_path, "--resend-in-doubt")

    assert resent.code == 0, resent.err
    assert (resent.json()["sent"], resent.json()["in_doubt"]) == (1, 0)
    assert meta.to().count(numbers[1]) == 2


def test_resume_by_campaign_name_needs_no_csv_or_template(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    numbers = phones(5)
    csv_path = order_csv(tmp_path, numbers)
    meta.fail(numbers[1], 131048)
    assert bulk(waba, csv_path, "--campaign", "spring", "--concurrency", "1").code == 1

    resumed = waba("send", "bulk", "--resume", "--campaign", "spring", "--rate", "0", "--json")

    assert resumed.code == 0, resumed.err
    assert sorted(meta.to()) == sorted([numbers[0], numbers[1], *numbers[1:]])


def test_resume_of_an_unknown_campaign_is_refused(waba: Any, templates: None, tmp_path: Path) -> None:
    result = waba("send", "bulk", "--resume", "--campaign", "never", "--json")

    assert result.code == 2
    assert "no campaign 'never'" in result.err


def test_the_same_command_after_the_end_sends_nothing_more(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = order_csv(tmp_path, phones(3))
    assert bulk(waba, csv_path).code == 0

    again = bulk(waba, csv_path)

    assert again.code == 0
    assert summary_of(again)["sent"] == 0
    assert again.json()["already_sent"] == 3
    assert len(meta.requests) == 3


def test_a_campaign_name_cannot_be_reused_for_another_message(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    csv_path = order_csv(tmp_path, phones(2))
    assert bulk(waba, csv_path, "--campaign", "june").code == 0

    other = waba("send", "bulk", "--csv", str(csv_path), "--body", "hi", "--campaign", "june", "--json")

    assert other.code == 2
    assert "was started with template order_update" in other.err


# -- statuses that overtake the sender --------------------------------------------------------------


def test_a_status_webhook_that_came_before_the_answer_is_not_overwritten(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    def delivered_first(body: dict[str, Any]) -> None:
        with db.transaction() as session:
            session.add(
                MessageStatus(
                    wamid=f"wamid.C{len(meta.requests)}",
                    status="delivered",
                    status_at=datetime.now(UTC),
                    biz_opaque_callback_data=body["biz_opaque_callback_data"],
                )
            )

    meta.hook = delivered_first

    result = bulk(waba, order_csv(tmp_path, phones(2)))

    assert result.code == 0, result.err
    assert {m.status for m in outbound(db)} == {"delivered"}


# -- the account's limits --------------------------------------------------------------------------


def set_limits(db: Database, **limits: int) -> None:
    from waba_cli.db.models.accounts import Account

    with db.transaction() as session:
        account = session.exec(select(Account)).one()
        for name, value in limits.items():
            setattr(account, name, value)


def test_a_campaign_that_would_pass_the_daily_limit_is_refused_and_nothing_is_kept(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    set_limits(db, daily_limit=2)

    result = bulk(waba, order_csv(tmp_path, phones(3)))

    assert result.code == 2
    assert "daily limit of 2" in result.err
    assert meta.requests == []
    with db.session() as session:
        assert session.exec(select(Campaign)).all() == []


def test_the_per_minute_limit_caps_the_rate(waba: Any, db: Database, templates: None, tmp_path: Path) -> None:
    set_limits(db, per_minute_limit=120)

    plan = bulk(waba, order_csv(tmp_path, phones(1)), "--dry-run").json()

    assert plan["rate_limit"] == 2.0
