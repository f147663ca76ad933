"""The rules before sending, at their edges: the 24-hour window, contact warnings, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.messaging import CONTACT, PNID, add_inbound
from waba_cli.db.engine import Database
from waba_cli.db.models.messages import Message
from waba_cli.errors import ValidationError
from waba_cli.services.messages import since
from waba_cli.services.messaging.rules import contact_warning, last_inbound_at, window_open


def test_the_window_closes_24_hours_after_the_contacts_last_message(db: Database, account_id: int) -> None:
    add_inbound(db, account_id, age=timedelta(hours=30))
    add_inbound(db, account_id, age=timedelta(hours=3))
    with db.session() as session:
        last = last_inbound_at(session, PNID, CONTACT)
        assert last is not None
        assert window_open(session, PNID, CONTACT, now=last + timedelta(hours=23, minutes=59))
        assert not window_open(session, PNID, CONTACT, now=last + timedelta(hours=24))
        assert not window_open(session, "999", CONTACT, now=last)  # another business number


def _outbound(db: Database, account_id: int, *, status: str, code: int | None, age: timedelta) -> None:
    with db.transaction() as session:
        session.add(
            Message(
                account_id=account_id,
                phone_number_id=PNID,
                direction="out",
                contact=CONTACT,
                type="text",
                status=status,
                error_code=code,
                created_at=datetime.now(UTC) - age,
            )
        )


@pytest.mark.parametrize(("code", "warned"), [(131050, True), (131026, True), (131049, False)])
def test_a_contact_whose_last_failure_says_stop_is_warned_about(
    db: Database, account_id: int, code: int, warned: bool
) -> None:
    _outbound(db, account_id, status="failed", code=code, age=timedelta(days=2))
    with db.session() as session:
        warning = contact_warning(session, account_id, CONTACT)
    assert (warning is not None) == warned
    if warning:
        assert str(code) in warning


def test_no_warning_once_a_later_message_reached_the_contact(db: Database, account_id: int) -> None:
    _outbound(db, account_id, status="failed", code=131026, age=timedelta(days=2))
    _outbound(db, account_id, status="delivered", code=None, age=timedelta(days=1))
    with db.session() as session:
        assert contact_warning(session, account_id, CONTACT) is None


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_since_takes_durations(text: str, ago: timedelta) -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert since(text, now) == now - ago


def test_since_takes_dates_and_refuses_anything_else() -> None:
    assert since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="--since"):
        since("last tuesday")
