"""`waba send bulk --dry-run --rate-card FILE`: what the campaign would cost, per country and pricing category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from tests.support.campaigns import FakeMeta, phones, write_csv
from tests.support.messaging import add_inbound
from waba_cli.db.engine import Database
from waba_cli.db.models.campaigns import Campaign

GERMANY = ["+4915112345678", "+4915112345679"]
BRAZIL = "+5511987654321"


def rate_card(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text("\n".join(["country,category,price,currency", *lines]) + "\n", encoding="utf-8")
    return path


def campaign_csv(tmp_path: Path) -> Path:
    """Three US numbers, two German, one Brazilian; a duplicate and an invalid row are not counted."""
    rows = [*phones(3), *GERMANY, BRAZIL, phones(1)[0], "not a number"]
    return write_csv(tmp_path / "spring.csv", "phone,1,2", [f"{n},Ana,88{i}" for i, n in enumerate(rows)])


def dry_run(waba: Any, csv_path: Path, card: Path, *extra: str) -> Any:
    return waba(
        "send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run", "--rate-card", str(card),
        *extra,
    )  # fmt: skip


def test_the_estimate_prices_each_recipient_by_country_and_the_templates_category(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    card = rate_card(tmp_path, "US,utility,0.004,EUR", "DE,utility,0.05,EUR", "*,marketing,0.1,EUR")

    result = dry_run(waba, campaign_csv(tmp_path), card, "--json")

    assert result.code == 0, result.err
    plan = result.json()
    assert plan["to_send"] == 6
    assert plan["cost"] == {
        "currency": "EUR",
        "total": 0.112,
        "priced": 5,
        "unpriced": 1,
        "by": [
            {"country": "BR", "category": "utility", "messages": 1, "price": None, "cost": None},
            {"country": "DE", "category": "utility", "messages": 2, "price": 0.05, "cost": 0.1},
            {"country": "US", "category": "utility", "messages": 3, "price": 0.004, "cost": 0.012},
        ],
    }
    assert meta.requests == []
    with db.session() as session:
        assert session.exec(select(Campaign)).all() == []


def test_the_human_dry_run_prints_one_line_naming_what_the_card_has_no_price_for(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    card = rate_card(tmp_path, "US,utility,0.004,EUR", "DE,utility,0.05,EUR")

    result = dry_run(waba, campaign_csv(tmp_path), card)

    assert result.code == 0, result.err
    assert "estimated cost: 0.11 EUR for 6 message(s) (1 with no price on the card: BR utility)" in result.out
    assert meta.requests == []


def test_a_star_prices_every_market_and_a_marketing_template_is_marketing(
    waba: Any, meta: FakeMeta, templates: None, tmp_path: Path
) -> None:
    card = rate_card(tmp_path, "*,marketing,0.1,USD", "DE,marketing,0.2,USD")
    csv_path = write_csv(
        tmp_path / "welcome.csv", "phone,first_name,code", [f"{phones(1)[0]},Ana,X1", f"{BRAZIL},Bo,X2"]
    )

    result = waba(
        "send", "bulk", "--csv", str(csv_path), "--template", "welcome", "--dry-run", "--rate-card", str(card), "--json"
    )

    assert result.code == 0, result.err
    cost = result.json()["cost"]
    assert (cost["total"], cost["priced"], cost["unpriced"]) == (0.2, 2, 0)
    assert {(e["country"], e["category"], e["price"]) for e in cost["by"]} == {
        ("BR", "marketing", 0.1),
        ("US", "marketing", 0.1),
    }


def test_a_text_inside_the_window_is_a_free_service_message(
    waba: Any, meta: FakeMeta, db: Database, account_id: int, tmp_path: Path
) -> None:
    inside, outside = phones(2)
    add_inbound(db, account_id, inside)
    csv_path = write_csv(tmp_path / "helpdesk.csv", "phone", [inside, outside])
    card = rate_card(tmp_path, "US,marketing,0.02,EUR")

    result = waba(
        "send", "bulk", "--csv", str(csv_path), "--body", "We are open", "--dry-run", "--rate-card", str(card), "--json"
    )

    assert result.code == 0, result.err
    assert result.json()["cost"] == {
        "currency": "EUR",
        "total": 0.0,
        "priced": 1,
        "unpriced": 0,
        "by": [{"country": "US", "category": "service", "messages": 1, "price": 0.0, "cost": 0.0}],
    }


def test_without_a_rate_card_the_plan_has_no_cost(waba: Any, meta: FakeMeta, templates: None, tmp_path: Path) -> None:
    result = waba(
        "send", "bulk", "--csv", str(campaign_csv(tmp_path)), "--template", "order_update", "--dry-run", "--json"
    )

    assert result.code == 0, result.err
    assert result.json()["cost"] is None
    assert (
        "estimated cost"
        not in waba("send", "bulk", "--csv", str(campaign_csv(tmp_path)), "--template", "order_update", "--dry-run").out
    )


def test_a_bad_rate_card_exits_2_before_anything_else_and_sends_nothing(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    card = rate_card(tmp_path, "US,utility,cheap,EUR")

    bad_price = dry_run(waba, campaign_csv(tmp_path), card)
    # refused before the CSV is even looked at, and before the template is
    before_all = waba("send", "bulk", "--csv", str(tmp_path / "missing.csv"), "--dry-run", "--rate-card", str(card))
    missing = dry_run(waba, campaign_csv(tmp_path), tmp_path / "nowhere.csv")
    mixed = dry_run(waba, campaign_csv(tmp_path), rate_card(tmp_path, "US,utility,0.1,EUR", "DE,utility,0.1,USD"))

    for result in (bad_price, before_all, missing, mixed):
        assert result.code == 2, result.err
        assert "--rate-card" in result.err
    assert "line 2: price 'cheap' is not a number" in bad_price.err
    assert "line 2: price 'cheap' is not a number" in before_all.err
    assert "mixes currencies: EUR, USD" in mixed.err
    assert meta.requests == []
    with db.session() as session:
        assert session.exec(select(Campaign)).all() == []


def test_a_rate_card_without_dry_run_is_refused_and_nothing_is_sent(
    waba: Any, meta: FakeMeta, db: Database, templates: None, tmp_path: Path
) -> None:
    card = rate_card(tmp_path, "US,utility,0.004,EUR")

    result = waba(
        "send", "bulk", "--csv", str(campaign_csv(tmp_path)), "--template", "order_update", "--rate-card", str(card)
    )

    assert result.code == 2
    assert "add --dry-run" in result.err
    assert meta.requests == []
    with db.session() as session:
        assert session.exec(select(Campaign)).all() == []
