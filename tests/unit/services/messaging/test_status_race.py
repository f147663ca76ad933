"""A status webhook committed while the sender records Meta's answer is never lost.

serve-webhook and `waba send` are separate processes on one database. Meta's `sent` webhook can
be applied while the sender is between "Meta answered with a wamid" and "the wamid is stored": the
webhook's UPDATE finds no message with that wamid yet, so the sender must see the status when it
stores the wamid. This test holds the webhook's transaction open across the sender's write.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from tests.support.messaging import CONTACT, PNID, status_webhook
from waba_cli.db.engine import Database, open_database
from waba_cli.db.models.messages import Message
from waba_cli.services.messaging import send as sending
from waba_cli.services.webhooks import apply
from waba_cli.services.webhooks.parse import Delivery


def test_a_sent_webhook_committed_during_the_senders_write_is_kept(
    db: Database, account_id: int, database_url: str
) -> None:
    outgoing = sending.Outgoing(
        account_id, "My Business WhatsApp", PNID, CONTACT, {"type": "text", "text": {"body": "hi"}}, "text", "hi"
    )
    message_id = sending._queue(db, outgoing, datetime.now(UTC))
    store = open_database(database_url, sqlite_immediate=True)  # serve-webhook's engine
    payload: Any = status_webhook("wamid.RACE2", "sent")
    applied, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def serve_webhook() -> None:
        try:
            with store.engine.connect() as conn:
                directory = apply.Directory.load(conn)
                conn.rollback()
                with conn.begin():
                    delivery = Delivery(body=json.dumps(payload).encode(), payload=payload)
                    apply.execute(conn, apply.plan([delivery], directory))
                    applied.set()
                    release.wait(10)
        except BaseException as exc:
            errors.append(exc)
            applied.set()

    def sender() -> None:
        try:
            sending._record_accepted(db, message_id, "wamid.RACE2", datetime.now(UTC))
        except BaseException as exc:
            errors.append(exc)

    webhook_thread = threading.Thread(target=serve_webhook)
    webhook_thread.start()
    assert applied.wait(10)
    sender_thread = threading.Thread(target=sender)
    sender_thread.start()
    time.sleep(0.5)
    waited = sender_thread.is_alive()  # the sender must wait for the webhook's transaction
    release.set()
    webhook_thread.join(10)
    sender_thread.join(10)
    store.dispose()

    assert not errors, errors
    assert waited
    with db.session() as session:
        row = session.exec(select(Message).where(Message.id == message_id)).one()
    assert (row.wamid, row.status) == ("wamid.RACE2", "sent")
