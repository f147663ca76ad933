"""What an access token reaches (reference §5.5): its WABAs and each WABA's numbers, so that the
setup wizard offers choices where Meta allows it instead of asking for ids.

``debug_token`` names the WABAs a token's WhatsApp permissions are limited to and, with
business_management, its business portfolios; a portfolio lists the WABAs it owns and those its
clients shared with it; a system user has assigned WABAs. Each source is asked, and one Meta
refuses (a permission the token lacks, an edge its kind of user has not) is left out: the operator
can always type an id. A token limited to some WABAs is offered only those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from waba_cli.db.timestamps import utcnow
from waba_cli.domain import numbers as rules
from waba_cli.domain.tokens import WABA_SCOPES

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI, Waba
    from waba_cli.services.context import CommandContext

BUSINESS_MANAGEMENT = "business_management"


@dataclass(frozen=True)
class WabaChoice:
    id: str
    name: str | None = None
    business_id: str | None = None
    business_name: str | None = None
    via: str = "token"  # how it was found: token, owned, client, assigned


@dataclass(frozen=True)
class NumberChoice:
    id: str
    display_phone_number: str | None
    phone_number: str | None  # E.164, from the display number
    verified_name: str | None
    quality_rating: str | None
    status: str | None
    verdict: str  # the number doctor's: OK, WARNING, BLOCKED
    reason: str | None  # the first thing that keeps it from sending, if any
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _targets(token: dict[str, Any], scopes: tuple[str, ...]) -> list[str]:
    found: dict[str, None] = {}
    for grant in token.get("granular_scopes") or []:
        if grant.get("scope") in scopes:
            found.update(dict.fromkeys(str(t) for t in grant.get("target_ids") or []))
    return list(found)


async def discover_wabas(api: GraphAPI, token: dict[str, Any]) -> list[WabaChoice]:
    """The WABAs ``token`` (its ``debug_token`` data) can manage, named where Meta tells."""
    from waba_cli.graph.api import DISCOVERY_WABA_FIELDS
    from waba_cli.graph.errors import GraphError

    limited_to = _targets(token, WABA_SCOPES)
    businesses: dict[str, None] = dict.fromkeys(_targets(token, (BUSINESS_MANAGEMENT,)))
    found: dict[str, WabaChoice] = {}

    def add(waba: Waba, via: str) -> None:
        waba_id = str(waba.get("id") or "")
        if not waba_id or (limited_to and waba_id not in limited_to):
            return
        owner = waba.get("owner_business_info") or {}
        if owner.get("id"):
            businesses.setdefault(str(owner["id"]), None)
        known = found.get(waba_id)
        name = waba.get("name") or (known.name if known else None)
        business_id = str(owner.get("id") or "") or (known.business_id if known else None)
        business_name = owner.get("name") or (known.business_name if known else None)
        # "token" says only that the token may use it; how the business holds it says more
        how = via if known is None or known.via == "token" else known.via
        found[waba_id] = WabaChoice(waba_id, name, business_id, business_name, how)

    for waba_id in limited_to:
        try:
            add(await api.get_waba(waba_id, DISCOVERY_WABA_FIELDS), "token")
        except GraphError:
            found.setdefault(waba_id, WabaChoice(waba_id))
    for business_id in list(businesses):
        for listing, via in ((api.list_owned_wabas, "owned"), (api.list_client_wabas, "client")):
            try:
                for waba in await listing(business_id):
                    add(waba, via)
            except GraphError:
                continue
    if token.get("user_id"):
        try:
            for waba in await api.list_assigned_wabas(str(token["user_id"])):
                add(waba, "assigned")
        except GraphError:
            pass
    return sorted(found.values(), key=lambda w: (w.name is None, (w.name or "").lower(), w.id))


async def discover_numbers(api: GraphAPI, waba_id: str) -> list[NumberChoice]:
    """Every number of the WABA with what the number doctor says of it."""
    from waba_cli.services.numbers.store import e164_of, facts_from_meta, read_numbers

    now = utcnow()
    choices = []
    for number in await read_numbers(api, waba_id):
        data: dict[str, Any] = dict(number)
        diagnosis = rules.diagnose(facts_from_meta(data, now), now)
        problems = [f for f in diagnosis.findings if f.severity != rules.INFO]
        choices.append(
            NumberChoice(
                id=str(data.get("id")),
                display_phone_number=data.get("display_phone_number"),
                phone_number=e164_of(number),
                verified_name=data.get("verified_name"),
                quality_rating=data.get("quality_rating"),
                status=data.get("status"),
                verdict=diagnosis.verdict,
                reason=problems[0].message if problems else None,
                data=data,
            )
        )
    return choices


# -- for the wizard ----------------------------------------------------------------------------


def inspect_token(
    ctx: CommandContext, access_token: str, *, app_id: str | None = None, app_secret: str | None = None
) -> dict[str, Any]:
    """``debug_token`` for a token just typed: with the app token when the app is known, else by itself."""
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import run

    async def ask() -> dict[str, Any]:
        async with ctx.graph(Credentials(access_token, app_id, app_secret)) as api:
            return dict(await api.debug_token(access_token, app_id=app_id, app_secret=app_secret))

    return run(ask)


def wabas_of(
    ctx: CommandContext, access_token: str, token: dict[str, Any], app_secret: str | None = None
) -> list[WabaChoice]:
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import run

    async def ask() -> list[WabaChoice]:
        async with ctx.graph(Credentials(access_token, None, app_secret)) as api:
            return await discover_wabas(api, token)

    return run(ask)


def numbers_of(
    ctx: CommandContext, access_token: str, waba_id: str, app_secret: str | None = None
) -> list[NumberChoice]:
    from waba_cli.graph.client import Credentials
    from waba_cli.services.context import run

    async def ask() -> list[NumberChoice]:
        async with ctx.graph(Credentials(access_token, None, app_secret)) as api:
            return await discover_numbers(api, waba_id)

    return run(ask)
