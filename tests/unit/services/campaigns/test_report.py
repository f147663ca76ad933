"""`waba campaign list` and `campaign show`: what a campaign became, statuses that came by webhook included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from tests.support.campaigns import FakeMeta, order_csv, phones, recipients, statuses_webhook
from tests.support.messaging import PNID, apply_webhook
from tests.support.world import on_a_terminal
from waba_cli.db.engine import Database
from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.campaigns import Campaign, CampaignRecipient

UNDELIVERABLE = (131026, "Message undeliverable")


def bulk(waba: Any, csv_path: Path, *extra: str) -> Any:
    return waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--json", *extra)


def test_failures_that_arrive_by_webhook_after_the_run_are_counted_by_code(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(12)
    meta.fail(numbers[11], 131049)  # refused when sent
    run = bulk(waba, order_csv(tmp_path, numbers), "--rate", "0")
    assert run.code == 0, run.err
    assert (run.json()["sent"], run.json()["failed"]) == (11, 1)
    sent = {r.phone: r.wamid for r in recipients(db, "customers-order_update") if r.wamid}

    # later: 3 fail with 131026, 5 are delivered (2 of them read), the rest say nothing yet
    apply_webhook(
        db,
        statuses_webhook(
            *[(sent[n], "failed", n, *UNDELIVERABLE) for n in numbers[:3]],
            *[(sent[n], "delivered", n) for n in numbers[3:8]],
            *[(sent[n], "read", n) for n in numbers[3:5]],
        ),
    )
    shown = waba("campaign", "show", "customers-order_update", "--json")

    assert shown.code == 0, shown.err
    data = shown.json()
    assert {k: data[k] for k in ("name", "total", "sent", "delivered", "read", "failed", "in_doubt", "pending")} == {
        "name": "customers-order_update",
        "total": 12,
        "sent": 11,
        "delivered": 5,
        "read": 2,
        "failed": 4,
        "in_doubt": 0,
        "pending": 0,
    }
    assert (data["failed_later"], data["no_status_yet"]) == (3, 3)
    assert data["failed_by_code"] == [
        {"code": 131026, "title": "Message undeliverable", "count": 3, "when_sent": 0, "later": 3},
        {"code": 131049, "title": "(#131049) scripted", "count": 1, "when_sent": 1, "later": 0},
    ]
    assert (data["status"], data["template"], data["skipped"]) == ("finished", "order_update", 0)
    assert data["finished_at"] is not None and data["started_at"] is not None
    assert (data["rate"], data["rate_reason"]) == (0, "--rate 0 (unpaced)")


def test_campaign_show_for_humans_has_the_codes_and_meta_titles(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    numbers = phones(3)
    assert bulk(waba, order_csv(tmp_path, numbers), "--rate", "0").code == 0
    wamid = recipients(db, "customers-order_update")[0].wamid or ""
    before = waba("campaign", "show", "customers-order_update")
    apply_webhook(db, statuses_webhook((wamid, "failed", numbers[0], 131026, "Message\x1b[31m undeliverable")))

    shown = waba("campaign", "show", "customers-order_update")

    assert "no status webhook has arrived" in before.err
    assert shown.code == 0, shown.err
    assert "no status webhook" not in shown.err
    assert "failed\t1" in shown.out
    assert "131026\tMessage\\x1b[31m undeliverable\t1\t0\t1" in shown.out  # Meta's text, escaped
    assert "\x1b" not in shown.out


def test_the_summary_points_to_campaign_show_for_what_comes_later(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    run = waba("send", "bulk", "--csv", str(order_csv(tmp_path, phones(2))), "--template", "order_update")

    assert run.code == 0, run.err
    assert "failed when sent\t0" in run.out
    assert "arrive by webhook: waba campaign show customers-order_update" in run.err


def test_a_pace_capped_by_the_accounts_per_minute_limit_is_said_once_with_the_reason(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path, fake_time: Any
) -> None:
    with db.transaction() as session:
        account = session.exec(select(Account)).one()
        account.per_minute_limit = 600
        name = account.name

    run = waba("send", "bulk", "--csv", str(order_csv(tmp_path, phones(3))), "--template", "order_update")
    shown = waba("campaign", "show", "customers-order_update", "--json").json()

    assert run.code == 0, run.err
    reason = f"account {name}'s per-minute limit of 600 messages (10/s), instead of the number's throughput"
    assert run.err.count("pacing:") == 1
    assert f"pacing: 10 messages/s: {reason}" in run.err
    assert run.err.index("pacing:") < run.err.index("arrive by webhook")
    assert shown["rate"] == 10
    assert shown["rate_reason"].startswith(reason)


def test_the_numbers_throughput_is_named_as_the_reason_and_an_explicit_rate_is_not_announced(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path, fake_time: Any
) -> None:
    with db.transaction() as session:
        number = session.exec(select(PhoneNumber).where(PhoneNumber.phone_number_id == PNID)).one()
        number.is_on_biz_app = True
    csv_path = order_csv(tmp_path, phones(2))

    plan = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run", "--json")
    chosen = waba("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--rate", "5")

    assert plan.json()["rate_reason"] == "the number is shared with the WhatsApp Business app (20/s)"
    assert chosen.code == 0, chosen.err
    assert "pacing:" not in chosen.err
    assert waba("campaign", "show", "customers-order_update", "--json").json()["rate_reason"] == "--rate 5"


def test_campaign_list_counts_each_campaign_newest_first_with_a_footer_when_cut(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    for i in range(3):
        csv_path = order_csv(tmp_path, phones(i + 1, start=10 * i), name=f"batch{i}.csv")
        assert bulk(waba, csv_path, "--rate", "0").code == 0

    listed = waba("campaign", "list", "--json")
    cut = waba("campaign", "list", "--limit", "2")
    every = waba("campaign", "list", "--all")

    assert [(c["name"], c["total"], c["sent"]) for c in listed.json()] == [
        ("batch2-order_update", 3, 3),
        ("batch1-order_update", 2, 2),
        ("batch0-order_update", 1, 1),
    ]
    assert len(cut.out.splitlines()) == 3  # the header and two
    assert "2 of 3 shown (--limit N / --all)" in cut.err
    assert len(every.out.splitlines()) == 4
    assert "shown" not in every.err
    assert waba("campaign", "list", "--limit", "2", "--all").code == 2


def test_an_unknown_campaign_is_exit_2_and_an_empty_list_says_how_to_start(waba: Any, account: Any) -> None:
    missing = waba("campaign", "show", "nope")
    empty = waba("campaign", "list")

    assert missing.code == 2
    assert "no campaign 'nope'" in missing.err
    assert empty.code == 0
    assert "waba send bulk" in empty.err
    assert waba("campaign", "list", "--json").json() == []


def test_campaign_list_on_a_terminal_is_one_line_per_campaign(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    assert (
        bulk(waba, order_csv(tmp_path, phones(2), name="a-rather-long-campaign-file-name.csv"), "--rate", "0").code == 0
    )

    narrow = on_a_terminal("campaign", "list", columns=100)
    wide = on_a_terminal("campaign", "list", columns=200)

    assert narrow.code == 0, narrow.err
    assert len(narrow.out.splitlines()) == 3  # the header, a rule, the campaign
    assert "a-rather-long-campaign-file-name-order_update" in narrow.out
    assert "template order_update (en_US)" in wide.out and "STARTED" in wide.out


def test_a_run_that_died_shows_as_stopped_with_its_sending_recipients_in_doubt(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    import socket

    assert bulk(waba, order_csv(tmp_path, phones(3)), "--rate", "0").code == 0
    first = recipients(db, "customers-order_update")[0]
    with db.transaction() as session:
        campaign = session.exec(select(Campaign)).one()
        campaign.status, campaign.owner = "running", f"{socket.gethostname()}:{2**22 + 12345}"  # no such pid
        recipient = session.get(CampaignRecipient, first.id)
        assert recipient is not None
        recipient.state, recipient.wamid = "sending", None

    data = waba("campaign", "show", "customers-order_update", "--json").json()

    assert (data["status"], data["in_doubt"], data["sending"], data["sent"]) == ("stopped", 1, 0, 2)
    assert "without finishing" in data["stop_reason"]
