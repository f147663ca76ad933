"""`analytics sync` against Meta's pages (respx): the three sources stored per UTC day, templates
asked 10 at a time with every page followed, `end` clamped to now, a second sync replaces the
first; and `report --source meta` beside waba's own figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from sqlmodel import select

from tests.support import analytics as week
from tests.support.world import GRAPH
from waba_cli.db.engine import Database
from waba_cli.db.models.analytics import AnalyticsMeta
from waba_cli.db.models.templates import MessageTemplate

WABA = "123456789012345"
DAY9 = int(datetime(2026, 3, 9, tzinfo=UTC).timestamp())
DAY10 = int(datetime(2026, 3, 10, tzinfo=UTC).timestamp())


class MetaAnalytics:
    """Meta's analytics answers, and what was asked."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.template_calls: list[dict[str, str]] = []

    def waba(self, request: httpx.Request) -> httpx.Response:
        fields = request.url.params.get("fields", "")
        self.fields.append(fields)
        if fields.startswith("analytics."):
            points = [
                {"start": DAY9, "end": DAY9 + 86400, "sent": 6, "delivered": 4},
                {"start": DAY10, "end": DAY10 + 86400, "sent": 1, "delivered": 1},
            ]
            return httpx.Response(200, json={"analytics": {"granularity": "DAY", "data_points": points}, "id": WABA})
        if fields.startswith("pricing_analytics."):
            points = [
                {"start": DAY9, "end": DAY9 + 86400, "country": "US", "pricing_type": "REGULAR",
                 "pricing_category": "MARKETING", "tier": "0:MAX", "volume": 2, "cost": 0.05},
                {"start": DAY9, "end": DAY9 + 86400, "country": "GB", "pricing_type": "REGULAR",
                 "pricing_category": "MARKETING", "tier": "0:MAX", "volume": 1, "cost": 0.0529},
            ]  # fmt: skip
            return httpx.Response(200, json={"pricing_analytics": {"data": [{"data_points": points}]}, "id": WABA})
        return httpx.Response(200, json={"id": WABA, "currency": "EUR"})

    def templates(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.template_calls.append(params)
        ids = params["template_ids"].strip("[]").split(",")
        page = params.get("after")
        point = {"template_id": ids[0], "start": DAY9 if page is None else DAY10, "sent": 3, "delivered": 2,
                 "read": 1, "clicked": [{"type": "quick_reply_button", "button_content": "Stop", "count": 1}],
                 "cost": [{"type": "amount_spent", "value": 0.075}]}  # fmt: skip
        body: dict[str, Any] = {"data": [{"granularity": "DAILY", "data_points": [point]}]}
        if page is None:
            body["paging"] = {"cursors": {"after": "PAGE2"}, "next": f"{GRAPH}/{WABA}/template_analytics?after=PAGE2&"
                              + "&".join(f"{k}={v}" for k, v in params.items())}  # fmt: skip
        return httpx.Response(200, json=body)


@pytest.fixture
def meta(account: Any, graph: respx.MockRouter, db: Database) -> MetaAnalytics:
    answers = MetaAnalytics()
    graph.get(f"/{WABA}/template_analytics").mock(side_effect=answers.templates)
    graph.get(f"/{WABA}").mock(side_effect=answers.waba)
    week.build(db)
    with db.transaction() as session:
        from waba_cli.db.models.accounts import Account

        owner = session.exec(select(Account)).one()
        for n in range(12):
            session.add(
                MessageTemplate(
                    account_id=owner.id,
                    name=f"t{n:02d}",
                    language="en_US",
                    category="MARKETING",
                    status="APPROVED",
                    components=[],
                    template_id=f"7000{n:02d}",
                )
            )
    return answers


def _stored(db: Database) -> list[AnalyticsMeta]:
    with db.session() as session:
        return list(session.exec(select(AnalyticsMeta)).all())


def test_sync_stores_the_three_sources(waba: Any, meta: MetaAnalytics, db: Database) -> None:
    result = waba("analytics", "sync", "--since", "2026-03-01", "--json")
    assert result.code == 0, result.err
    [synced] = result.json()
    assert synced["currency"] == "EUR"
    assert (synced["messages"], synced["pricing"]) == (2, 2)
    # 12 templates: two calls of at most 10, each followed to its second page
    firsts = [call for call in meta.template_calls if "after" not in call]
    assert [len(c["template_ids"].strip("[]").split(",")) for c in firsts] == [10, 2]
    assert len(meta.template_calls) == 4
    assert synced["templates"] == 4
    end = int(firsts[0]["end"])
    assert end <= datetime.now(UTC).timestamp() + 1  # clamped to now
    assert any(".dimensions(COUNTRY,PRICING_CATEGORY,PRICING_TYPE,TIER)" in f for f in meta.fields)
    rows = _stored(db)
    by_source = {(r.source, r.day.isoformat(), r.key): r for r in rows}
    assert by_source[("messages", "2026-03-09", "")].sent == 6
    assert by_source[("pricing", "2026-03-09", "US|MARKETING|REGULAR|0:MAX")].cost == pytest.approx(0.05)
    template = by_source[("template", "2026-03-09", "700000")]
    assert (template.sent, template.read, template.clicked, template.cost) == (3, 1, 1, pytest.approx(0.075))
    assert {r.currency for r in rows} == {"EUR"}
    # a second sync replaces, never adds
    assert waba("analytics", "sync", "--since", "2026-03-01").code == 0
    assert len(_stored(db)) == len(rows)


def test_report_beside_meta(waba: Any, meta: MetaAnalytics, db: Database) -> None:
    assert waba("analytics", "sync", "--since", "2026-03-01").code == 0
    result = waba("analytics", "report", "--since", "2026-03-07", "--until", "2026-03-10", "--source", "meta", "--json")
    assert result.code == 0, result.err
    compared = result.json()["meta"]
    assert compared["synced"] and compared["currency"] == "EUR"
    days = {d["day"]: d for d in compared["days"]}
    # waba's 9 March (New York) has 4 sent, Meta's 6: two Meta counted that waba has no record of
    assert (days["2026-03-09"]["sent"], days["2026-03-09"]["meta_sent"]) == (4, 6)
    assert (days["2026-03-09"]["meta_only"], days["2026-03-09"]["local_only"]) == (2, 0)
    assert days["2026-03-08"]["meta_sent"] is None
    assert compared["by_category"]["marketing"]["volume"] == 3
    assert compared["by_category"]["marketing"]["cost"] == pytest.approx(0.1029)
    assert {(t["country"], t["to_next_tier"]) for t in compared["tiers"]} == {("US", None), ("GB", None)}
    text = waba("analytics", "report", "--since", "2026-03-07", "--until", "2026-03-10", "--source", "meta")
    assert text.code == 0, text.err
    assert "Meta counted that waba has no record of" in text.err


def test_report_beside_meta_before_any_sync(waba: Any, meta: MetaAnalytics) -> None:
    result = waba("analytics", "report", "--source", "meta")
    assert result.code == 0, result.err
    assert "run `waba analytics sync` first" in result.err


def test_report_by_template_beside_metas_template_analytics(waba: Any, meta: MetaAnalytics, db: Database) -> None:
    assert waba("analytics", "sync", "--since", "2026-03-01").code == 0
    with db.transaction() as session:
        owner = session.exec(select(MessageTemplate)).first()
        assert owner is not None
        # promo in two languages: Meta's figures of both ids add up under its name
        for language, template_id, sent in (("en_US", "800000", 2), ("pt_BR", "800001", 1)):
            session.add(
                MessageTemplate(
                    account_id=owner.account_id, name="promo", language=language, category="MARKETING",
                    status="APPROVED", components=[], template_id=template_id,
                )
            )  # fmt: skip
            session.add(
                AnalyticsMeta(
                    account_id=owner.account_id, source="template", day=datetime(2026, 3, 9).date(),
                    key=template_id, sent=sent, delivered=sent, read=1, clicked=0, currency="EUR",
                    fetched_at=datetime.now(UTC),
                )
            )  # fmt: skip
    command = ("analytics", "report", "--since", "2026-03-07", "--until", "2026-03-10", "--by", "template")

    result = waba(*command, "--source", "meta", "--json")

    assert result.code == 0, result.err
    document = result.json()
    templates = {t["template"]: t for t in document["meta"]["templates"]}
    promo = next(row for row in document["rows"] if row["key"] == "promo")
    # waba's side is the report's own row (no status has come in this world: sent, not delivered yet)
    assert templates["promo"] == {
        "template": "promo",
        "sent": promo["sent"],
        "meta_sent": 3,
        "delivered": promo["delivered"],
        "meta_delivered": 3,
        "read": promo["read"],
        "meta_read": 2,
        "clicks": promo["clicks"],
        "meta_clicked": 0,
    }
    assert (promo["sent"], promo["clicks"]) == (3, 1)
    # sent by waba, no figures from Meta (no template id known)
    assert (templates["order_update"]["sent"], templates["order_update"]["meta_sent"]) == (1, None)
    # counted by Meta only (two pages: 9 and 10 March), none by waba
    assert {k: templates["t00"][k] for k in ("sent", "meta_sent", "meta_read", "meta_clicked")} == {
        "sent": 0,
        "meta_sent": 6,
        "meta_read": 2,
        "meta_clicked": 2,
    }
    assert "" not in templates
    # the report's own keys are unchanged
    assert {row["key"] for row in document["rows"]} >= {"promo", "order_update"}
    assert {"days", "by_category", "tiers", "meta_only", "local_only"} <= set(document["meta"])

    text = waba(*command, "--source", "meta")

    assert text.code == 0, text.err
    assert "TEMPLATE\tSENT\tMETA SENT\tDELIVERED\tMETA DELIVERED\tREAD\tMETA READ\tCLICKS\tMETA CLICKED" in text.out
    assert "\nt00\t0\t6\t0\t4\t0\t2\t0\t2\t!\n" in text.out  # Meta counted what waba did not: marked
    assert "\norder_update\t1\t-\t" in text.out
