"""Template benchmark: how fast templates are checked, and how long `template sync` takes for a full WABA.

    python tests/benchmarks/template_sync.py [--templates N] [--page-size P] [--database-url URL]

1. Validation: the rules of `waba template validate` over N generated templates (header, body with
   three variables, footer, three buttons), as templates per second.
2. Sync: `fetch_templates` then `reconcile` (what `waba template sync` runs) against a mocked Graph API that
   serves N templates in pages of P (Meta's maximum per WABA is 6,000), into a fresh SQLite database
   (or --database-url, e.g. an empty PostgreSQL database). Three rounds: the first sync (every
   template new), a second one (nothing changed), and a third in which Meta reports 10% of the
   templates PAUSED with a RED quality score (status and quality history written).

Timings are wall time of one run each on this machine; compare against a run of the unchanged code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from waba_cli.db.engine import Database, open_database
from waba_cli.db.models.accounts import Account
from waba_cli.domain.templates import forms, rules
from waba_cli.graph.api import GraphAPI
from waba_cli.graph.client import Credentials, GraphClient
from waba_cli.services.templates.sync import SyncResult, fetch_templates, reconcile

BASE = "http://graph.invalid"
WABA = "104839201938475"


def template(index: int, *, paused: bool = False) -> dict[str, Any]:
    return {
        "id": str(1_000_000 + index),
        "name": f"order_update_{index}",
        "language": "en_US",
        "status": "PAUSED" if paused else "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "quality_score": {"score": "RED" if paused else "GREEN", "date": 1751234563},
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["8812"]}},
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} ships on {{3}}. Thank you for shopping with us.",
                "example": {"body_text": [["Ana", "8812", "Friday"]]},
            },
            {"type": "FOOTER", "text": "Lucky Shrub"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop updates"},
                    {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}", "example": ["8812"]},
                    {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550051310"},
                ],
            },
        ],
    }


def meta(count: int, page_size: int, paused_every: int | None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        after = int(parse_qs(urlparse(str(request.url)).query).get("after", ["0"])[0])
        end = min(after + page_size, count)
        data = [template(i, paused=bool(paused_every) and i % paused_every == 0) for i in range(after, end)]
        page: dict[str, Any] = {"data": data}
        if end < count:
            page["paging"] = {
                "cursors": {"after": str(end)},
                "next": f"{BASE}/v23.0/{WABA}/message_templates?after={end}",
            }
        return httpx.Response(200, content=json.dumps(page).encode(), headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


async def sync_once(db: Database, account: Account, transport: httpx.MockTransport) -> SyncResult:
    async with GraphClient(Credentials("EAAGbenchmarktoken0123456789"), base_url=BASE, transport=transport) as client:
        remote = await fetch_templates(GraphAPI(client), account)
    with db.transaction() as session:
        return reconcile(session, account, remote)


def make_account(db: Database) -> Account:
    with db.transaction() as session:
        account = Account(
            name="bench",
            waba_id=WABA,
            app_id="670843887433847",
            app_secret_enc="-",
            access_token_enc="-",
            access_token_mask="EAAG…6789",
        )
        session.add(account)
        session.flush()
        return account


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--templates", type=int, default=6000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)

    requests = [
        forms.to_request({**template(i), "id": None, "status": None, "quality_score": None}).request
        for i in range(args.templates)
    ]
    started = time.perf_counter()
    broken = sum(1 for r in requests if any(v.is_error for v in rules.validate(r)))
    elapsed = time.perf_counter() - started
    print(
        f"validate: {args.templates} templates in {elapsed * 1000:.0f} ms = "
        f"{args.templates / elapsed:,.0f}/s ({broken} broken)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(args.database_url or f"sqlite:///{Path(tmp) / 'waba.db'}")
        account = make_account(db)
        pages = -(-args.templates // args.page_size)
        for label, paused_every in (("first sync", None), ("nothing changed", None), ("10% paused", 10)):
            started = time.perf_counter()
            result = asyncio.run(sync_once(db, account, meta(args.templates, args.page_size, paused_every)))
            elapsed = time.perf_counter() - started
            print(
                f"sync ({label}): {result.fetched} templates, {pages} pages in {elapsed * 1000:.0f} ms "
                f"= {result.fetched / elapsed:,.0f}/s (added {result.added}, updated {result.updated}, "
                f"status changes {result.status_changes})"
            )
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
