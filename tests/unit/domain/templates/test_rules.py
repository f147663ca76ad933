"""The template rules: every rule Meta would reject on, caught locally, with the error it prevents."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.templates import LOGIN_CODE_AS_LISTED
from waba_cli.domain.templates import compare, forms, render, rules
from waba_cli.domain.templates.rules import Violation

pytestmark = pytest.mark.backend_neutral  # pure rules: no database at all

# -- a valid template and how each rule breaks it ---------------------------------------------------

ORDER_UPDATE: dict[str, Any] = {
    "name": "order_update",
    "category": "UTILITY",
    "language": "en_US",
    "header_text": "Order {{1}} update",
    "header_example": "8812",
    "body_text": "Hi {{1}}, your order {{2}} has shipped and arrives soon.",
    "examples": ["Ana", "8812"],
    "footer_text": "Lucky Shrub",
    "buttons": [
        "QUICK_REPLY:Stop updates",
        "URL:Track it:https://example.com/track/{{1}}",
        "PHONE_NUMBER:Call us:+15550051310",
    ],
}
LOGIN_CODE: dict[str, Any] = {
    "name": "login_code",
    "category": "AUTHENTICATION",
    "language": "en_US",
    "message_send_ttl_seconds": 60,
    "components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ],
}


def request_for(data: dict[str, Any]) -> dict[str, Any]:
    template = forms.to_request(data)
    assert template.violations == []
    forms.add_url_examples(template.request["components"], ["8812"])
    return template.request


def violations_of(request: dict[str, Any]) -> list[Violation]:
    return [v for v in rules.validate(request) if v.is_error]


def component(request: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in request["components"] if c["type"] == kind)
    return found


def test_the_example_templates_follow_every_rule() -> None:
    assert violations_of(request_for(ORDER_UPDATE)) == []
    assert violations_of(forms.to_request(LOGIN_CODE).request) == []


def _set(path: str, value: Any) -> Any:
    def change(request: dict[str, Any]) -> None:
        kind, _, key = path.partition(".")
        if kind in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            component(request, kind)[key] = value
        else:
            request[path] = value

    return change


def _button(index: int, **changes: Any) -> Any:
    def change(request: dict[str, Any]) -> None:
        component(request, "BUTTONS")["buttons"][index].update(changes)

    return change


def _buttons(*buttons: dict[str, Any]) -> Any:
    def change(request: dict[str, Any]) -> None:
        component(request, "BUTTONS")["buttons"] = [copy.deepcopy(b) for b in buttons]

    return change


QR = {"type": "QUICK_REPLY", "text": "Yes"}
URL = {"type": "URL", "text": "Open", "url": "https://example.com/a"}
PHONE = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550051310"}

# (what the operator got wrong, how, the component reported, the Meta error prevented)
RULES = [
    ("name missing", _set("name", ""), "name", "100"),
    ("name with capitals and dashes", _set("name", "Order-Update"), "name", "100"),
    ("name longer than 512", _set("name", "a" * 513), "name", "2388040"),
    ("category unknown", _set("category", "PROMO"), "category", "100"),
    ("category retired", _set("category", "TRANSACTIONAL"), "category", "100"),
    ("language not a locale code", _set("language", "english"), "language", "100"),
    ("header longer than 60", _set("HEADER.text", "Order {{1}} " + "x" * 60), "HEADER", "2388040"),
    ("header with two variables", _set("HEADER.text", "Order {{1}} for {{2}} now"), "HEADER", "2388047"),
    ("header with an emoji", _set("HEADER.text", "Order {{1}} \N{PACKAGE}"), "HEADER", "2388047"),
    ("header variable without example", _set("HEADER.example", None), "HEADER", "100"),
    ("header variable other than {{1}}", _set("HEADER.text", "Order {{2}} news"), "HEADER", "2388047"),
    ("header ending with its variable", _set("HEADER.text", "Order {{1}}"), "HEADER", "2388299"),
    ("body longer than 1024", _set("BODY.text", "Hi {{1}}, order {{2}} shipped. " + "x" * 1024), "BODY", "2388040"),
    ("body missing", _set("BODY.text", ""), "BODY", "2388072"),
    ("variables with a gap", _set("BODY.text", "Hi {{1}}, your order {{3}} has shipped today."), "BODY", "100"),
    ("variables out of order", _set("BODY.text", "Hi {{2}}, your order {{1}} has shipped today."), "BODY", "100"),
    ("variable at the start", _set("BODY.text", "{{1}}, your order {{2}} has shipped today."), "BODY", "2388299"),
    ("variable at the end", _set("BODY.text", "Hi there {{1}}, your order is {{2}}"), "BODY", "2388299"),
    ("adjacent variables", _set("BODY.text", "Hi there {{1}} {{2}} your order has shipped."), "BODY", "INVALID_FORMAT"),
    ("too little text per variable", _set("BODY.text", "Hi {{1}} and {{2}} ok"), "BODY", "2388293"),
    ("body examples missing", _set("BODY.example", None), "BODY", "100"),
    ("body examples as a flat list", _set("BODY.example", {"body_text": ["Ana", "8812"]}), "BODY", "100"),
    ("one example too few", _set("BODY.example", {"body_text": [["Ana"]]}), "BODY", "100"),
    ("mixed numbered and named", _set("BODY.text", "Hi {{1}}, your order {{order}} shipped today."), "BODY", "2388072"),
    ("footer longer than 60", _set("FOOTER.text", "x" * 61), "FOOTER", "2388040"),
    ("footer with a variable", _set("FOOTER.text", "Thanks {{1}}"), "FOOTER", "2388073"),
    ("button text longer than 25", _button(0, text="x" * 26), "BUTTONS[1] QUICK_REPLY", "2388040"),
    (
        "URL longer than 2000",
        _button(1, url="https://example.com/" + "x" * 2000 + "{{1}}"),
        "BUTTONS[2] URL",
        "2388040",
    ),
    ("URL variable not at the end", _button(1, url="https://example.com/{{1}}/track"), "BUTTONS[2] URL", "100"),
    ("URL variable without example", _button(1, example=None), "BUTTONS[2] URL", "100"),
    ("URL that is not http", _button(1, url="ftp://example.com/{{1}}"), "BUTTONS[2] URL", "100"),
    ("phone number without country code", _button(2, phone_number="5550051310"), "BUTTONS[3] PHONE_NUMBER", "100"),
    ("more than 10 buttons", _buttons(*[QR] * 11), "BUTTONS", "100"),
    ("three URL buttons", _buttons(URL, URL, URL), "BUTTONS", "100"),
    ("two phone buttons", _buttons(PHONE, PHONE), "BUTTONS", "100"),
    ("quick replies interleaved", _buttons(QR, URL, QR), "BUTTONS", "100"),
    (
        "copy code longer than 15",
        _buttons({"type": "COPY_CODE", "example": "X" * 16}),
        "BUTTONS[1] COPY_CODE",
        "2388040",
    ),
    ("OTP button outside authentication", _buttons({"type": "OTP", "otp_type": "COPY_CODE"}), "BUTTONS[1] OTP", "100"),
    ("unknown button type", _buttons({"type": "TELEPORT", "text": "Go"}), "BUTTONS[1] TELEPORT", "100"),
]


@pytest.mark.parametrize(("mistake", "change", "where", "meta_error"), RULES, ids=[r[0] for r in RULES])
def test_validator_catches_what_meta_would_reject(mistake: str, change: Any, where: str, meta_error: str) -> None:
    request = request_for(ORDER_UPDATE)
    change(request)

    found = violations_of(request)

    assert any(v.component == where and v.meta_error == meta_error for v in found), [v.line() for v in found]
    assert all(v.fix for v in found)


def _auth_set(kind: str, **changes: Any) -> Any:
    def change(request: dict[str, Any]) -> None:
        component(request, kind).update(changes)

    return change


def _auth_header(request: dict[str, Any]) -> None:
    request["components"].insert(0, {"type": "HEADER", "format": "TEXT", "text": "Your code"})


AUTH_RULES = [
    ("body text written by hand", _auth_set("BODY", text="Your code is {{1}} now"), "BODY", "2388072"),
    ("footer with text", _auth_set("FOOTER", text="Thanks"), "FOOTER", "2388073"),
    ("code expiry over 90 minutes", _auth_set("FOOTER", code_expiration_minutes=91), "FOOTER", "100"),
    ("a header", _auth_header, "HEADER", "100"),
    ("a quick reply instead of OTP", _auth_set("BUTTONS", buttons=[QR]), "BUTTONS", "100"),
    (
        "one-tap without the app",
        _auth_set("BUTTONS", buttons=[{"type": "OTP", "otp_type": "ONE_TAP", "text": "Autofill"}]),
        "BUTTONS[1] OTP",
        "100",
    ),
    (
        "signature hash of the wrong length",
        _auth_set(
            "BUTTONS",
            buttons=[{"type": "OTP", "otp_type": "ONE_TAP", "package_name": "com.example", "signature_hash": "short"}],
        ),
        "BUTTONS[1] OTP",
        "100",
    ),
]


@pytest.mark.parametrize(("mistake", "change", "where", "meta_error"), AUTH_RULES, ids=[r[0] for r in AUTH_RULES])
def test_validator_knows_the_authentication_rules(mistake: str, change: Any, where: str, meta_error: str) -> None:
    request = forms.to_request(copy.deepcopy(LOGIN_CODE)).request
    change(request)

    found = violations_of(request)

    assert any(v.component == where and v.meta_error == meta_error for v in found), [v.line() for v in found]


def test_media_header_needs_an_uploaded_example() -> None:
    request = request_for({**ORDER_UPDATE, "header_text": None, "header_example": None, "header_format": "IMAGE"})

    found = violations_of(request)

    assert [(v.component, v.meta_error) for v in found] == [("HEADER", "2388047")]


def test_media_header_example_file_must_match_the_format() -> None:
    data = {
        **ORDER_UPDATE,
        "header_text": None,
        "header_example": None,
        "header_format": "VIDEO",
        "header_file": "a.png",
    }

    found = violations_of(request_for(data))

    assert [v.component for v in found] == ["HEADER"]
    assert "VIDEO" in found[0].problem


def test_named_variables_need_a_named_example_each() -> None:
    data = {
        **ORDER_UPDATE,
        "header_text": None,
        "body_text": "Hi {{first_name}}, your order {{order_id}} has shipped today.",
        "examples": {"first_name": "Ana"},
    }
    request = request_for(data)

    found = violations_of(request)

    assert request["parameter_format"] == "named"
    assert [(v.component, v.problem) for v in found] == [("BODY", "has no example for order_id")]


def test_named_variables_take_letters_and_underscores_only() -> None:
    data = {
        **ORDER_UPDATE,
        "header_text": None,
        "body_text": "Hi {{name2}}, your order has shipped today.",
        "examples": {"name2": "Ana"},
    }

    found = violations_of(request_for(data))

    assert [(v.component, v.meta_error) for v in found] == [("BODY", "2388072")]


def test_misspelled_component_and_button_keys_are_warnings() -> None:
    request = request_for(ORDER_UPDATE)
    component(request, "FOOTER")["txt"] = "typo"
    component(request, "BUTTONS")["buttons"][0]["payload"] = "x"

    found = rules.validate(request)

    assert [(v.component, v.severity) for v in found] == [("FOOTER", "warning"), ("BUTTONS[1] QUICK_REPLY", "warning")]


def test_simple_form_reports_unknown_keys_and_bad_buttons() -> None:
    template = forms.to_request({**ORDER_UPDATE, "body": "typo", "buttons": ["URL:Track it"]})

    assert [v.component for v in template.violations] == ["body", "BUTTONS[1]"]


def test_simple_form_becomes_metas_create_request() -> None:
    request = request_for(ORDER_UPDATE)

    assert request["parameter_format"] == "positional"
    assert request["components"] == [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} update", "example": {"header_text": ["8812"]}},
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} has shipped and arrives soon.",
            "example": {"body_text": [["Ana", "8812"]]},
        },
        {"type": "FOOTER", "text": "Lucky Shrub"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop updates"},
                {"type": "URL", "text": "Track it", "url": "https://example.com/track/{{1}}", "example": ["8812"]},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550051310"},
            ],
        },
    ]


def test_simple_form_gives_url_buttons_their_example_with_url_examples() -> None:
    template = forms.to_request({**ORDER_UPDATE, "url_examples": ["8812"]})

    assert template.violations == []
    url = component(template.request, "BUTTONS")["buttons"][1]
    assert url["example"] == ["8812"]
    assert violations_of(template.request) == []
    without = forms.to_request(ORDER_UPDATE)
    assert any(v.component.startswith("BUTTONS") for v in violations_of(without.request))


@pytest.mark.parametrize(
    ("value", "problem"),
    [(["8812", "9913"], "1 value(s) for no URL button"), ({"1": "8812"}, "must be a list"), ([True], "must be a list")],
)
def test_url_examples_that_fit_no_button_are_refused(value: Any, problem: str) -> None:
    template = forms.to_request({**ORDER_UPDATE, "url_examples": value})

    assert [(v.component, problem in v.problem) for v in template.violations] == [("url_examples", True)]


def test_preview_fills_header_body_and_url_suffix_in_order() -> None:
    request = request_for(ORDER_UPDATE)
    slots = render.variable_slots(request["components"], "UTILITY")

    rendered = render.render(
        request["components"], "UTILITY", render.bind(slots, ["77", "Bob", "77", "x77"], named=False)
    )

    assert rendered.header == "Order 77 update"
    assert rendered.body == "Hi Bob, your order 77 has shipped and arrives soon."
    assert rendered.buttons[1] == {"type": "URL", "text": "Track it", "target": "https://example.com/track/x77"}


def test_preview_refuses_the_wrong_number_of_values() -> None:
    slots = render.variable_slots(request_for(ORDER_UPDATE)["components"], "UTILITY")

    with pytest.raises(ValueError, match="takes 4 value"):
        render.bind(slots, ["Bob"], named=False)


# -- properties ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
texts_with_braces = st.text(alphabet=st.sampled_from(list("ab {}12_x\n*")), max_size=40)
component_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["HEADER", "BODY", "FOOTER", "BUTTONS", "body", "x"]) | json_values,
        "format": st.sampled_from(rules.HEADER_FORMATS) | json_values,
        "text": texts_with_braces | json_values,
        "example": json_values
        | st.fixed_dictionaries(
            {}, optional={"body_text": json_values, "header_text": json_values, "header_handle": json_values}
        ),
        "buttons": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from([*rules.BUTTON_TYPES, "MPM", "?"]) | json_values,
                    "text": texts_with_braces | json_values,
                    "url": texts_with_braces | json_values,
                    "example": json_values,
                    "otp_type": st.sampled_from(rules.OTP_TYPES) | json_values,
                    "supported_apps": json_values,
                },
            )
            | json_values,
            max_size=12,
        ),
        "code_expiration_minutes": json_values,
        "add_security_recommendation": json_values,
    },
)
template_like = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=20) | json_values,
        "category": st.sampled_from([*rules.CATEGORIES, "OTP"]) | json_values,
        "language": st.sampled_from(["en_US", "en-us", "xx"]) | json_values,
        "parameter_format": st.sampled_from(["named", "positional"]) | json_values,
        "components": st.lists(component_like | json_values, max_size=5) | json_values,
        "body_text": texts_with_braces | json_values,
        "header_text": texts_with_braces | json_values,
        "footer_text": texts_with_braces | json_values,
        "buttons": st.lists(st.text(max_size=20) | json_values, max_size=4) | json_values,
        "examples": json_values,
        "message_send_ttl_seconds": json_values,
    },
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, template_like))
def test_validator_never_crashes_on_any_input(data: Any) -> None:
    template = forms.to_request(data)
    found = rules.validate(template.request)

    assert all(isinstance(v, Violation) and v.line() for v in [*template.violations, *found])
    components = template.request.get("components")
    slots = render.variable_slots(components, template.request.get("category"))
    render.render(
        components,
        template.request.get("category"),
        render.example_values(components, template.request.get("category")),
    )
    compare.comparable(template.request.get("category"), template.request.get("parameter_format"), components)
    assert len(slots) == len(set(slots))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_validator_never_crashes_on_metas_shape_with_anything_inside(data: Any) -> None:
    rules.validate({"name": "a", "category": "MARKETING", "language": "en", "components": data})
    rules.validate({"name": "a", "category": "AUTHENTICATION", "language": "en", "components": [data]})


# valid templates, generated from the rules themselves

WORDS = ["your", "order", "ships", "today", "thanks", "for", "shopping", "with", "us", "see", "you", "soon"]
words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
# two words either side of a header variable keep the header within Meta's 60 characters
header_words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join)
example_values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
names = st.from_regex(r"\A[a-z][a-z0-9_]{0,40}\Z")
variable_names = st.from_regex(r"\A[a-z][a-z_]{0,15}\Z")


@st.composite
def valid_bodies(draw: st.DrawFn, *, named: bool) -> tuple[str, list[str]]:
    """A body with words around every variable (never at an edge, never adjacent, enough text)."""
    count = draw(st.integers(0, 5))
    keys = (
        draw(st.lists(variable_names, min_size=count, max_size=count, unique=True))
        if named
        else [str(i + 1) for i in range(count)]
    )
    parts = [draw(words) + " " + draw(words)]
    for key in keys:
        parts.append(f"{{{{{key}}}}}")
        parts.append(draw(words) + " " + draw(words))
    return " ".join(parts) + ".", keys


@st.composite
def valid_buttons(draw: st.DrawFn) -> list[dict[str, Any]]:
    others: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            others.append(
                {
                    "type": "URL",
                    "text": draw(words)[:25],
                    "url": "https://example.com/t/{{1}}",
                    "example": [draw(example_values)],
                }
            )
        else:
            others.append({"type": "URL", "text": draw(words)[:25], "url": "https://example.com/help"})
    if draw(st.booleans()):
        others.append({"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550051310"})
    if draw(st.booleans()):
        others.append({"type": "COPY_CODE", "example": draw(example_values)[:15]})
    replies = [{"type": "QUICK_REPLY", "text": draw(words)[:25]} for _ in range(draw(st.integers(0, 10 - len(others))))]
    return replies + others if draw(st.booleans()) else others + replies


@st.composite
def valid_templates(draw: st.DrawFn) -> dict[str, Any]:
    named = draw(st.booleans())
    body, keys = draw(valid_bodies(named=named))
    if named:
        example: dict[str, Any] = {
            "body_text_named_params": [{"param_name": k, "example": draw(example_values)} for k in keys]
        }
    else:
        example = {"body_text": [[draw(example_values) for _ in keys]]}
    components: list[dict[str, Any]] = []
    header = draw(st.sampled_from(["none", "text", "variable", "location", "image"]))
    if header == "text":
        components.append({"type": "HEADER", "format": "TEXT", "text": draw(words)})
    elif header == "variable":
        key = draw(variable_names) if named else "1"
        header_example = (
            {"header_text_named_params": [{"param_name": key, "example": draw(example_values)}]}
            if named
            else {"header_text": [draw(example_values)]}
        )
        components.append(
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": f"{draw(header_words)} {{{{{key}}}}} {draw(header_words)}",
                "example": header_example,
            }
        )
    elif header == "location":
        components.append({"type": "HEADER", "format": "LOCATION"})
    elif header == "image":
        components.append(
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2UvanBlZw==:ARb"]}}
        )
    components.append({"type": "BODY", "text": body, **({"example": example} if keys else {})})
    if draw(st.booleans()):
        components.append({"type": "FOOTER", "text": draw(words)})
    buttons = draw(valid_buttons())
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": draw(names),
        "category": draw(st.sampled_from(["MARKETING", "UTILITY", "marketing"])),
        "language": draw(st.sampled_from(sorted(rules.LANGUAGES))),
        "parameter_format": "named" if named else "positional",
        "components": components,
    }


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(valid_templates())
def test_validator_accepts_every_template_that_follows_the_rules(template: dict[str, Any]) -> None:
    converted = forms.to_request(template)

    assert converted.violations == []
    assert rules.validate(converted.request) == []


@settings(max_examples=100, deadline=None)
@given(
    otp_type=st.sampled_from(rules.OTP_TYPES),
    minutes=st.integers(1, 90),
    security=st.booleans(),
    language=st.sampled_from(sorted(rules.LANGUAGES)),
)
def test_validator_accepts_every_valid_authentication_template(
    otp_type: str, minutes: int, security: bool, language: str
) -> None:
    button: dict[str, Any] = {"type": "OTP", "otp_type": otp_type, "text": "Copy code"}
    if otp_type != "COPY_CODE":
        button["supported_apps"] = [{"package_name": "com.example.app", "signature_hash": "K8a/AINcGX7"}]
    if otp_type == "ZERO_TAP":
        button["zero_tap_terms_accepted"] = True
    request = {
        "name": "login_code",
        "category": "AUTHENTICATION",
        "language": language,
        "message_send_ttl_seconds": 60,
        "components": [
            {"type": "BODY", "add_security_recommendation": security},
            {"type": "FOOTER", "code_expiration_minutes": minutes},
            {"type": "BUTTONS", "buttons": [button]},
        ],
    }

    assert rules.validate(request) == []


# -- Meta's listing shape ---------------------------------------------------------------------------


def test_an_authentication_template_as_meta_lists_it_reads_back_in_the_create_shape() -> None:
    shape = forms.as_create_shape("AUTHENTICATION", LOGIN_CODE_AS_LISTED)

    assert shape == LOGIN_CODE["components"]
    assert rules.validate({**LOGIN_CODE, "components": shape}) == []


def test_url_examples_listed_as_whole_urls_compare_as_their_suffix() -> None:
    request = request_for(ORDER_UPDATE)
    listed = copy.deepcopy(request["components"])
    component({"components": listed}, "BUTTONS")["buttons"][1]["example"] = ["https://example.com/track/8812"]

    mine = compare.comparable("UTILITY", "positional", request["components"])
    metas = compare.comparable("UTILITY", "POSITIONAL", listed)

    assert mine == metas
    values = render.example_values(listed, "UTILITY")
    assert render.render(listed, "UTILITY", values).buttons[1]["target"] == "https://example.com/track/8812"


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    template_like,
    st.one_of(st.text(max_size=20), json_values),
    st.sampled_from(["IMAGE", "VIDEO", "DOCUMENT", "GIF", None]),
)
def test_checking_a_file_entry_with_any_header_file_never_crashes(data: Any, header_file: Any, fmt: Any) -> None:
    from waba_cli.services.templates import files

    entry = {**data, "header_file": header_file, "header_format": fmt} if isinstance(data, dict) else data
    template = forms.to_request(entry)
    files.resolve_media_files(template.request, Path("/nonexistent"))

    assert all(isinstance(v, Violation) for v in files.check(template))
