"""Whatever JSON arrives with a valid signature, applying it never crashes and never loses the delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from tests.support.webhook import PHONE_NUMBER_ID, WABA_ID
from waba_cli.db.models.webhooks import WebhookEvent
from waba_cli.services.webhooks.apply import Directory
from waba_cli.services.webhooks.parse import Delivery, parse_body
from waba_cli.services.webhooks.store import commit_batch, open_store

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80)
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
FIELDS = [
    "messages",
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "message_template_components_update",
    "phone_number_quality_update",
    "phone_number_name_update",
    "account_update",
    "account_review_update",
    "account_alerts",
    "business_capability_update",
    "security",
    "flows",
    "user_preferences",
]
ITEM_KEYS = [
    "id",
    "from",
    "from_user_id",
    "status",
    "timestamp",
    "type",
    "text",
    "errors",
    "context",
    "pricing",
    "conversation",
    "biz_opaque_callback_data",
    "recipient_id",
    "interactive",
    "contacts",
]
VALUE_KEYS = [
    "metadata",
    "contacts",
    "messages",
    "statuses",
    "errors",
    "event",
    "message_template_id",
    "message_template_name",
    "message_template_language",
    "display_phone_number",
    "decision",
    "ban_info",
    "alert_info",
    "flow_id",
    "new_status",
    "new_quality_score",
]
# text in the places where strings are expected, but also anything else
wamids = st.text(min_size=1, max_size=300) | anything
statuses = st.sampled_from(["sent", "delivered", "read", "played", "failed", "deleted", "warning", ""]) | anything
item = st.fixed_dictionaries(
    {"id": wamids},
    optional={
        "status": statuses,
        "from": st.text(alphabet="0123456789+", max_size=80) | anything,
        **{key: anything for key in ITEM_KEYS if key not in ("id", "status", "from")},
    },
)
value = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.fixed_dictionaries({"phone_number_id": st.just(PHONE_NUMBER_ID) | anything}) | anything,
        "messages": st.lists(item | anything, max_size=4) | anything,
        "statuses": st.lists(item | anything, max_size=4) | anything,
        **{key: anything for key in VALUE_KEYS if key not in ("metadata", "messages", "statuses")},
    },
)
change = st.fixed_dictionaries({"field": st.sampled_from(FIELDS) | anything, "value": value | anything})
entry = st.fixed_dictionaries(
    {"changes": st.lists(change | anything, max_size=4) | anything},
    optional={"id": st.just(WABA_ID) | anything, "time": anything},
)
payloads = st.fixed_dictionaries({"entry": st.lists(entry | anything, max_size=3) | anything}) | anything


@pytest.fixture
def store(business: Any) -> Iterator[tuple[Connection, Directory]]:
    from waba_cli.settings import load_settings

    db = open_store(load_settings())
    with db.engine.connect() as conn:
        with conn.begin():
            directory = Directory.load(conn)
        yield conn, directory
    db.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(payloads, min_size=1, max_size=3))
@example(
    batch=[
        {
            "entry": [
                {
                    "id": WABA_ID,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                                "contacts": [{"wa_id": "9" * 90, "profile": {"name": "x\u0000" * 300}}],
                                "messages": [
                                    {"id": "w" * 400, "from": "9" * 90, "type": "t" * 50, "text": {"body": "\ud800"}}
                                ],
                                "statuses": [{"id": "s" * 400, "status": "failed" * 5, "errors": [{"code": 2**40}]}],
                            },
                        }
                    ],
                }
            ]
        }
    ]
)
def test_any_json_is_stored_and_applied_without_a_crash(store: tuple[Connection, Directory], batch: list[Any]) -> None:
    conn, directory = store
    with conn.begin():
        before = conn.execute(select(func.count()).select_from(WebhookEvent.__table__)).scalar_one()  # type: ignore[attr-defined]
    deliveries = []
    for payload in batch:
        body = json.dumps(payload).encode()
        deliveries.append(Delivery(body=body, payload=parse_body(body), signed_for=None))
    result = commit_batch(conn, deliveries, directory)
    # the batch applied as a whole (a database error would have deferred it) and every event is stored
    assert not result.deferred
    with conn.begin():
        after = conn.execute(select(func.count()).select_from(WebhookEvent.__table__)).scalar_one()  # type: ignore[attr-defined]
    assert after == before + len(batch)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_either_parse_into_storable_json_or_are_refused_as_malformed(body: bytes) -> None:
    try:
        payload = parse_body(body)
    except ValueError:
        return
    # what the apply step gets can be written to any database: strict UTF-8, no NUL
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    assert "\\u0000" not in text
    text.encode("utf-8")
