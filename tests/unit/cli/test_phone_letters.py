"""A phone number with letters is refused wherever one is typed or read: phonenumbers would read
"+1 650 CALL NOW" as keypad digits (+16502255669) and send to someone else. One parser
(``domain.validators.phone_number``) serves every path; each kind of entry point is tried here
through the real `waba` command: flags, a bulk CSV (counted invalid, with its line), a setup
file, the wizard's answers and the sandbox's customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.campaigns import ORDER_UPDATE, write_csv
from tests.support.messaging import CONTACT, add_template
from waba_cli.db.engine import Database
from waba_cli.domain.validators import phone_number
from waba_cli.errors import ValidationError
from waba_cli.services.accounts.setup import check_value

LETTERED = ["+1 650 CALL NOW", "+44 7700 900abc", "+1 650 555 0123 x12", "+1650555O123"]


def _refused(result: Any, flag: str) -> None:
    assert result.code == 2, (result.code, result.err)
    [line] = result.err.strip().splitlines()
    assert flag in line and "contains letters" in line, line
    assert "Traceback" not in result.err


@pytest.mark.parametrize("value", LETTERED)
def test_the_parser_refuses_letters_and_reads_no_keypad_digits(value: str) -> None:
    with pytest.raises(ValueError, match="contains letters"):
        phone_number(value)


def test_the_parser_still_reads_the_usual_notations() -> None:
    for notation in ("+1 (650) 555-0123", "+1.650.555.0123", "001 650 555 0123", "+1 650–555–0123"):
        assert phone_number(notation) == CONTACT
    assert phone_number("(650) 555-0123", "US") == CONTACT
    with pytest.raises(ValueError, match=r"contains '\*'"):
        phone_number("+1 650 555 0123*")


@pytest.mark.parametrize("value", LETTERED)
def test_send_refuses_a_recipient_with_letters_before_anything_is_sent(
    waba: Any, account: Any, graph: Any, value: str
) -> None:
    result = waba("send", "text", "--to", value, "--body", "hello")

    _refused(result, "--to")
    assert graph.calls.call_count == 0


def test_message_list_refuses_a_contact_with_letters(waba: Any, account: Any) -> None:
    _refused(waba("message", "list", "--to", "+1 650 CALL NOW"), "--to")


def test_bulk_dry_run_counts_rows_with_letters_invalid_with_their_lines(
    waba: Any, account: Any, account_id: int, db: Database, graph: Any, tmp_path: Path
) -> None:
    add_template(db, account_id, "order_update", ORDER_UPDATE)
    csv_path = write_csv(
        tmp_path / "customers.csv",
        "phone,1,2",
        ["+1 650 555 0123,Ana,8801", "+1 650 CALL NOW,Bo,8802", "+44 7700 900abc,Cy,8803", "+15550000001,Di,8804"],
    )
    command = ("send", "bulk", "--csv", str(csv_path), "--template", "order_update", "--dry-run")

    plan = waba(*command, "--json")
    human = waba(*command)

    assert plan.code == 0, plan.err
    data = plan.json()
    assert (data["total"], data["valid"], data["invalid"]) == (4, 2, 2)
    assert {p["line"]: "contains letters" in p["reason"] for p in data["problems"]} == {3: True, 4: True}
    assert "line 3" in human.err + human.out and "contains letters" in human.err + human.out
    assert graph.calls.call_count == 0


def test_number_add_refuses_letters(waba: Any, account: Any, graph: Any) -> None:
    result = waba("number", "add", "--cc", "1", "--phone-number", "650 CALL NOW", "--verified-name", "Acme")
    _refused(result, "--phone-number")
    assert graph.calls.call_count == 0


def test_a_setup_file_with_letters_in_the_number_is_refused(waba: Any, setup_file: Any) -> None:
    path = setup_file({"phone_number": "+1 555 013 CALL"})
    result = waba("account", "setup", "--from-file", str(path), "--no-verify")
    _refused(result, "phone_number")
    assert waba("account", "list", "--json").json() == []


def test_the_wizard_re_asks_a_number_with_letters() -> None:
    """The wizard checks each answer with ``check_value`` (the setup file's checks) and re-asks."""
    with pytest.raises(ValidationError, match="contains letters"):
        check_value("phone_number", "+1 555 013 CALL")
    assert check_value("phone_number", "+1 555 013 4567")[0] == "+15550134567"


def test_sandbox_inbound_refuses_a_customer_number_with_letters(waba: Any) -> None:
    result = waba("sandbox", "inbound", "--to", "+15550134567", "--from", "+1 555 CALL NOW", "--text", "hi")
    _refused(result, "--from")
    ok = waba("sandbox", "inbound", "--to", "+15550134567", "--from", "15551230001", "--text", "hi",
              "--sandbox-url", "http://127.0.0.1:9")  # fmt: skip
    assert "--from" not in ok.err  # digits alone (a wa_id) still pass the check
