"""Meta's rules for message templates (reference §3.2-§3.3), checked before anything reaches Meta.

``validate`` lists every rule a create request breaks, each with the component, a fix and the
Meta error (or review rejection) it prevents. Here too: Meta's vocabulary and limits, and the
variables (``{{1}}``, ``{{first_name}}``) of a text.

The validator answers for any input whatsoever (a property test feeds it arbitrary data): a value
of the wrong type is a violation, never an exception.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# -- Meta's vocabulary and limits ------------------------------------------------------------------

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
LEGACY_CATEGORIES = {
    "TRANSACTIONAL": "UTILITY",
    "ACCOUNT_UPDATE": "UTILITY",
    "ALERT_UPDATE": "UTILITY",
    "PAYMENT_UPDATE": "UTILITY",
    "SHIPPING_UPDATE": "UTILITY",
    "OTP": "AUTHENTICATION",
}
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION", "GIF")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT", "GIF")
# what the resumable upload API accepts (reference §3.3), by file extension
UPLOAD_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".pdf": "application/pdf",
}
MEDIA_EXTENSIONS = {
    "IMAGE": (".jpg", ".jpeg", ".png"),
    "VIDEO": (".mp4",),
    "DOCUMENT": (".pdf",),
    "GIF": (".mp4",),
}
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "FLOW", "OTP")
# valid at Meta, but for catalogs, calling and contact requests: passed through unchecked
SPECIALISED_BUTTONS = ("MPM", "SPM", "CATALOG", "VOICE_CALL", "CALL_PERMISSION_REQUEST", "REQUEST_CONTACT_INFO", "APP")
BUTTON_ALIASES = {"PHONE": "PHONE_NUMBER", "CALL": "PHONE_NUMBER", "QR": "QUICK_REPLY", "REPLY": "QUICK_REPLY"}
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
# the keys each component and button takes (reference §3.2-§3.3); others are reported as warnings
COMPONENT_KEYS = {
    "HEADER": ("type", "format", "text", "example"),
    "BODY": ("type", "text", "example", "add_security_recommendation"),
    "FOOTER": ("type", "text", "code_expiration_minutes"),
    "BUTTONS": ("type", "buttons"),
}
BUTTON_KEYS = (
    "type",
    "text",
    "url",
    "example",
    "phone_number",
    "flow_id",
    "flow_name",
    "flow_json",
    "flow_action",
    "navigate_screen",
    "otp_type",
    "autofill_text",
    "package_name",
    "signature_hash",
    "supported_apps",
    "zero_tap_terms_accepted",
)
FLOW_ACTIONS = ("navigate", "data_exchange")

NAME_MAX = 512
HEADER_MAX = 60
BODY_MAX = 1024
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
URL_MAX = 2000
PHONE_MAX = 20
COPY_CODE_MAX = 15
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
PACKAGE_NAME_MAX = 224
SIGNATURE_HASH_LEN = 11
SUPPORTED_APPS_MAX = 5
CODE_EXPIRATION = range(1, 91)
TTL_MAX = 30 * 24 * 3600

# a WABA's templates at Meta: quotas, and the statuses that allow an edit or mean the template is gone
CREATIONS_PER_HOUR = 100  # per WABA (reference §3.1)
TEMPLATES_MAX = 6000  # per WABA, verified business (reference §3.7)
TEMPLATES_UNVERIFIED_MAX = 250
APPROVED_EDITS_PER_DAY = 1  # reference §3.6
APPROVED_EDITS_PER_30_DAYS = 10
EDITABLE_STATUSES = ("APPROVED", "REJECTED", "PAUSED")
GONE_STATUSES = ("DELETED", "PENDING_DELETION")
# every status a template has: waba's local DRAFT, then Meta's (reference §3, template statuses)
STATUSES = (
    "DRAFT",
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "DELETED",
    "FLAGGED",
    "REINSTATED",
    "LIMIT_EXCEEDED",
    "LOCKED",
    "ARCHIVED",
    "UNARCHIVED",
)
# the resumable upload API's limits by kind (reference §7), checked before uploading
MEDIA_MAX_BYTES = {"image": 5 * 1024 * 1024, "video": 16 * 1024 * 1024, "application": 100 * 1024 * 1024}

# Meta's errors (reference §1.6) and the review rejection each rule prevents
ERR_PARAMETER = "100"
ERR_TOO_LONG = "2388040"
ERR_HEADER = "2388047"
ERR_BODY = "2388072"
ERR_FOOTER = "2388073"
ERR_TOO_MANY_VARIABLES = "2388293"
ERR_START_END = "2388299"
REJECTED_FORMAT = "INVALID_FORMAT"

# Meta's template languages; a code outside this list is a warning (Meta adds languages)
LANGUAGES = frozenset(
    """af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA az be_BY bn bn_IN bg ca zh_CN zh_HK zh_TW hr cs da prs_AF nl nl_BE
    en en_GB en_US en_AE en_AU en_CA en_GH en_IE en_IN en_JM en_MY en_NZ en_QA en_SG en_UG en_ZA et fil fi fr
    fr_BE fr_CA fr_CH fr_CI fr_MA ka de de_AT de_CH el gu ha he hi hu id ga it ja kn kk rw_RW ko ky_KG lo lv lt
    mk ms ml mr nb ps_AF fa pl pt_BR pt_PT pa ro ru sr si_LK sk sl es es_AR es_CL es_CO es_CR es_DO es_EC es_HN
    es_MX es_PA es_PE es_ES es_UY sw sv ta te th tr uk ur uz vi zu""".split()  # noqa: SIM905 - a word list reads better as text
)

NAME_RE = re.compile(r"^[a-z0-9_]+$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
PLACEHOLDER_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_POSITIONAL_RE = re.compile(r"^[1-9][0-9]{0,3}$")
_NAMED_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_STRICT_NAMED_RE = re.compile(r"^[a-z_]+$")
_WORD_RE = re.compile(r"[^\W_]+")
_PHONE_RE = re.compile(r"^\+[1-9][0-9]{4,18}$")
_URL_RE = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+\S*$", re.IGNORECASE)
_HEADER_FORBIDDEN = ("\n", "\r", "*", "~", "`")

# the keys of Meta's create request
REQUEST_KEYS = (
    "name",
    "language",
    "category",
    "parameter_format",
    "components",
    "message_send_ttl_seconds",
    "allow_category_change",
    "cta_url_link_tracking_opted_out",
)
# a media header example not uploaded yet: "file:" and its path (uploaded when the template goes to Meta)
FILE_HANDLE_PREFIX = "file:"


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, what, how to fix it, and what Meta would have answered."""

    component: str
    problem: str
    fix: str
    meta_error: str
    severity: str = "error"  # "error" stops the template; "warning" is reported only

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def line(self) -> str:
        return f"{self.component}: {self.problem}; {self.fix} (prevents {self.meta_error})"

    def as_dict(self) -> dict[str, str]:
        return {
            "component": self.component,
            "problem": self.problem,
            "fix": self.fix,
            "meta_error": self.meta_error,
            "severity": self.severity,
        }


# -- variables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placeholder:
    """A ``{{1}}`` or ``{{first_name}}`` in a text, with its span."""

    key: str
    start: int
    end: int

    @property
    def positional(self) -> bool:
        return self.key.isdigit()


def placeholders(text: Any) -> tuple[list[Placeholder], list[str]]:
    """The well-formed placeholders of ``text`` and the malformed ``{{...}}`` pieces."""
    if not isinstance(text, str):
        return [], []
    found: list[Placeholder] = []
    malformed: list[str] = []
    for match in PLACEHOLDER_RE.finditer(text):
        inner = match.group(1)
        if _POSITIONAL_RE.match(inner) or _NAMED_RE.match(inner):
            found.append(Placeholder(inner, match.start(), match.end()))
        else:
            malformed.append(match.group(0)[:40])
    rest = PLACEHOLDER_RE.sub("", text)
    if "{{" in rest or "}}" in rest:
        malformed.append("unbalanced {{ or }}")
    return found, malformed


def distinct_keys(found: Iterable[Placeholder]) -> list[str]:
    keys: list[str] = []
    for placeholder in found:
        if placeholder.key not in keys:
            keys.append(placeholder.key)
    return keys


def count_variables(text: Any) -> int:
    return len(distinct_keys(placeholders(text)[0]))


def upper_text(value: Any) -> str | None:
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def type_name(value: Any) -> str:
    return type(value).__name__ if value is not None else "nothing"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or unicodedata.category(char) == "So"


# -- the validator -------------------------------------------------------------------------------


def validate(request: Any) -> list[Violation]:
    """Every rule of reference §3.2-§3.3 that ``request`` (Meta's create body) breaks."""
    checker = _Checker()
    checker.template(request)
    return checker.violations


class _Checker:
    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.category: str | None = None
        self.format = "POSITIONAL"

    def add(self, component: str, problem: str, fix: str, meta_error: str = ERR_PARAMETER) -> None:
        self.violations.append(Violation(component, problem, fix, meta_error))

    def warn(self, component: str, problem: str, fix: str, meta_error: str = ERR_PARAMETER) -> None:
        self.violations.append(Violation(component, problem, fix, meta_error, "warning"))

    @property
    def auth(self) -> bool:
        return self.category == "AUTHENTICATION"

    # -- top level ---------------------------------------------------------------------------
    def template(self, request: Any) -> None:
        if not isinstance(request, Mapping):
            self.add("template", f"must be an object of template keys, not {type_name(request)}", "see `--help`")
            return
        for key in request:
            if key not in REQUEST_KEYS:
                self.add(str(key)[:60], "is not a key of Meta's create request", "remove it or check its spelling")
        self.name(request.get("name"))
        self.language(request.get("language"))
        self.category_of(request.get("category"))
        self.parameter_format(request.get("parameter_format"))
        self.ttl(request.get("message_send_ttl_seconds"))
        for key in ("allow_category_change", "cta_url_link_tracking_opted_out"):
            if key in request and not isinstance(request[key], bool):
                self.add(key, "must be true or false", f"write {key} = true or false")
        self.components(request.get("components"))

    def name(self, name: Any) -> None:
        if not isinstance(name, str) or not name:
            self.add("name", "is missing", "give the template a name like order_update")
            return
        if len(name) > NAME_MAX:
            self.add("name", f"is {len(name)} characters; Meta allows {NAME_MAX}", "shorten it", ERR_TOO_LONG)
        if not NAME_RE.match(name):
            suggestion = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "order_update"
            self.add(
                "name",
                f"{name[:60]!r} may hold only lowercase letters, digits and underscores",
                f"rename it, e.g. {suggestion[:60]}",
            )

    def language(self, language: Any) -> None:
        if not isinstance(language, str) or not language:
            self.add("language", "is missing", "give Meta's locale code, e.g. en_US or pt_BR")
            return
        if not LANGUAGE_RE.match(language):
            self.add("language", f"{language[:30]!r} is not a locale code", "write it like en, en_US or pt_BR")
        elif language not in LANGUAGES:
            self.warn(
                "language",
                f"{language} is not in Meta's list of template languages known to waba",
                "check the code in WhatsApp Manager (e.g. en_US, de, pt_BR)",
            )

    def category_of(self, category: Any) -> None:
        upper = upper_text(category)
        if upper is None:
            self.add("category", "is missing", f"choose one of {', '.join(CATEGORIES)}")
            return
        if upper in CATEGORIES:
            self.category = upper
            return
        if upper in LEGACY_CATEGORIES:
            self.add("category", f"{upper} is a retired category", f"use {LEGACY_CATEGORIES[upper]}")
            self.category = LEGACY_CATEGORIES[upper]
            return
        self.add("category", f"{str(category)[:30]!r} is not a category", f"choose one of {', '.join(CATEGORIES)}")

    def parameter_format(self, value: Any) -> None:
        if value is None:
            return
        upper = upper_text(value)
        if upper not in PARAMETER_FORMATS:
            self.add("parameter_format", f"{str(value)[:30]!r} is not a parameter format", "use positional or named")
            return
        self.format = upper

    def ttl(self, value: Any) -> None:
        if value is None:
            return
        if not is_int(value) or not 0 < value <= TTL_MAX:
            self.add("message_send_ttl_seconds", "must be a whole number of seconds", "e.g. 60 (or leave it out)")
        elif self.category == "MARKETING":
            self.add(
                "message_send_ttl_seconds",
                "marketing templates take no TTL (only through Marketing Messages Lite)",
                "leave it out",
            )

    # -- components --------------------------------------------------------------------------
    def components(self, components: Any) -> None:
        if not isinstance(components, list) or not components:
            self.add("components", "are missing: a template needs at least a BODY", "add a body text")
            return
        seen: dict[str, Mapping[str, Any]] = {}
        for index, component in enumerate(components):
            where = f"components[{index}]"
            if not isinstance(component, Mapping):
                self.add(where, f"must be an object, not {type_name(component)}", "write it as {type: ..., ...}")
                continue
            kind = upper_text(component.get("type"))
            if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
                self.add(
                    where, f"type {str(component.get('type'))[:30]!r} is unknown", "use HEADER, BODY, FOOTER or BUTTONS"
                )
                continue
            if kind in seen:
                self.add(kind, "appears twice", f"keep one {kind} component")
                continue
            seen[kind] = component
            unknown = [str(k)[:30] for k in component if k not in COMPONENT_KEYS[kind]]
            if unknown:
                self.warn(kind, f"has key(s) Meta does not know here: {', '.join(unknown)}", "check their spelling")
        self.variable_format(seen)
        if "HEADER" in seen:
            self.header(seen["HEADER"])
        if "BODY" in seen:
            self.body(seen["BODY"])
        else:
            self.add("BODY", "is missing (the only required component)", "add a body text")
        if "FOOTER" in seen:
            self.footer(seen["FOOTER"])
        if "BUTTONS" in seen:
            self.buttons(seen["BUTTONS"])
        elif self.auth:
            self.add("BUTTONS", "authentication templates need an OTP button", "add a button OTP:Copy code")

    def variable_format(self, seen: Mapping[str, Mapping[str, Any]]) -> None:
        found = [p for kind in ("HEADER", "BODY") if kind in seen for p in placeholders(seen[kind].get("text"))[0]]
        positional = [p.key for p in found if p.positional]
        named = [p.key for p in found if not p.positional]
        if positional and named:
            self.add(
                "BODY",
                "mixes numbered ({{1}}) and named ({{name}}) variables",
                "use one kind in the whole template",
                ERR_BODY,
            )
        elif named and self.format == "POSITIONAL":
            self.add(
                "parameter_format",
                f"is positional but the template uses named variables ({{{{{named[0]}}}}})",
                "set parameter_format = named",
            )
        elif positional and self.format == "NAMED":
            self.add(
                "parameter_format",
                f"is named but the template uses numbered variables ({{{{{positional[0]}}}}})",
                "set parameter_format = positional, or name the variables",
            )
        # placeholders() also reads digits in names (Meta's own templates may have them); new ones keep
        # to the rule of reference §3.3
        for key in dict.fromkeys(named):
            if not _STRICT_NAMED_RE.match(key):
                self.add(
                    "BODY",
                    f"variable name {{{{{key[:30]}}}}} may hold only lowercase letters and underscores",
                    f"rename it, e.g. {{{{{re.sub(r'[^a-z_]+', '_', key).strip('_') or 'value'}}}}}",
                    ERR_BODY,
                )

    # -- header --------------------------------------------------------------------------------
    def header(self, header: Mapping[str, Any]) -> None:
        if self.auth:
            self.add("HEADER", "authentication templates have no header", "remove the header")
            return
        fmt = upper_text(header.get("format"))
        if fmt not in HEADER_FORMATS:
            self.add(
                "HEADER",
                f"format {str(header.get('format'))[:30]!r} is unknown",
                f"use one of {', '.join(HEADER_FORMATS)}",
                ERR_HEADER,
            )
            return
        if fmt == "TEXT":
            self.header_text(header)
        elif fmt == "LOCATION":
            if self.category not in (None, "UTILITY", "MARKETING"):
                self.add("HEADER", "a LOCATION header is for utility and marketing templates only", "remove it")
            if header.get("text") is not None or header.get("example") is not None:
                self.add(
                    "HEADER",
                    "a LOCATION header has no text or example (the place is sent with the message)",
                    "remove them",
                )
        else:
            self.header_media(fmt, header)

    def header_text(self, header: Mapping[str, Any]) -> None:
        text = header.get("text")
        if not isinstance(text, str) or not text.strip():
            self.add("HEADER", "a TEXT header needs its text", "add header_text or remove the header", ERR_HEADER)
            return
        if len(text) > HEADER_MAX:
            self.add("HEADER", f"text is {len(text)} characters; Meta allows {HEADER_MAX}", "shorten it", ERR_TOO_LONG)
        found, malformed = placeholders(text)
        for piece in malformed:
            self.add("HEADER", f"malformed variable {piece}", "write variables as {{1}} or {{name}}", ERR_HEADER)
        outside = PLACEHOLDER_RE.sub("", text)
        bad = sorted({c for c in outside if c in _HEADER_FORBIDDEN or _is_emoji(c)})
        if bad:
            shown = " ".join(repr(c) for c in bad[:5])
            self.add(
                "HEADER", f"text contains {shown}", "headers take no newlines, emoji or *, ~, ` formatting", ERR_HEADER
            )
        keys = distinct_keys(found)
        if len(keys) > 1:
            self.add("HEADER", f"has {len(keys)} variables; a header takes one", "keep one variable", ERR_HEADER)
        if found and (not text[: found[0].start].strip() or not text[found[-1].end :].strip()):
            self.add(
                "HEADER",
                "starts or ends with a variable",
                "put some text before and after the variable",
                ERR_START_END,
            )
        if len(keys) == 1 and keys[0].isdigit() and keys[0] != "1":
            self.add(
                "HEADER",
                f"variable {{{{{keys[0]}}}}} must be {{{{1}}}}",
                "number the header variable {{1}}",
                ERR_HEADER,
            )
        example = header.get("example")
        if not keys:
            if example is not None:
                self.add("HEADER", "has an example but no variable", "remove the example")
            return
        self.example_values("HEADER", keys[:1], example, "header_text", nested=False)

    def header_media(self, fmt: str, header: Mapping[str, Any]) -> None:
        if fmt == "GIF" and self.category not in (None, "MARKETING"):
            self.add("HEADER", "GIF headers are for marketing templates only", "use IMAGE or VIDEO")
        example = header.get("example")
        handles = example.get("header_handle") if isinstance(example, Mapping) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h.strip() for h in handles):
            self.add(
                "HEADER",
                f"a {fmt} header needs an example media file",
                f"give header_file = a {'/'.join(MEDIA_EXTENSIONS[fmt])} file (uploaded with the resumable upload API)",
                ERR_HEADER,
            )
            return
        for handle in handles:
            if handle.startswith(FILE_HANDLE_PREFIX):
                path = handle[len(FILE_HANDLE_PREFIX) :]
                suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
                if suffix not in MEDIA_EXTENSIONS[fmt]:
                    self.add(
                        "HEADER",
                        f"{path[-60:]} is not a {fmt} file Meta accepts",
                        f"use a {'/'.join(MEDIA_EXTENSIONS[fmt])} file",
                        ERR_HEADER,
                    )

    # -- body ----------------------------------------------------------------------------------
    def body(self, body: Mapping[str, Any]) -> None:
        if self.auth:
            if body.get("text") is not None:
                self.add(
                    "BODY",
                    "Meta writes the body of authentication templates",
                    "remove the text (keep add_security_recommendation)",
                    ERR_BODY,
                )
            flag = body.get("add_security_recommendation")
            if flag is not None and not isinstance(flag, bool):
                self.add("BODY", "add_security_recommendation must be true or false", "write true or false")
            return
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            self.add("BODY", "has no text", "add body_text", ERR_BODY)
            return
        if len(text) > BODY_MAX:
            self.add("BODY", f"text is {len(text)} characters; Meta allows {BODY_MAX}", "shorten it", ERR_TOO_LONG)
        found, malformed = placeholders(text)
        for piece in malformed:
            self.add("BODY", f"malformed variable {piece}", "write variables as {{1}} or {{name}}", ERR_BODY)
        if not found:
            if body.get("example") is not None:
                self.add("BODY", "has examples but no variables", "remove the examples")
            return
        keys = distinct_keys(found)
        if found[0].positional and all(p.positional for p in found):
            self.numbering(keys)
        self.placement(text, found)
        words = len(_WORD_RE.findall(PLACEHOLDER_RE.sub(" ", text)))
        needed = 2 * len(keys) + 1
        if words < needed:
            self.add(
                "BODY",
                f"has {len(keys)} variable(s) but only {words} word(s) of text",
                f"write at least {needed} words around them, or use fewer variables",
                ERR_TOO_MANY_VARIABLES,
            )
        self.example_values("BODY", keys, body.get("example"), "body_text", nested=True)

    def numbering(self, keys: list[str]) -> None:
        numbers = [int(k) for k in keys]
        expected = list(range(1, len(numbers) + 1))
        if sorted(numbers) != expected:
            shown = ", ".join(f"{{{{{n}}}}}" for n in sorted(numbers))
            self.add(
                "BODY",
                f"variables {shown} are not numbered 1 to {len(numbers)} without gaps",
                "renumber them {{1}}, {{2}}, ...",
            )
        elif numbers != expected:
            self.add(
                "BODY", "variables appear out of order", "number them in reading order: {{1}} first, then {{2}}, ..."
            )

    def placement(self, text: str, found: list[Placeholder]) -> None:
        stripped_start = len(text) - len(text.lstrip())
        stripped_end = len(text.rstrip())
        if found[0].start == stripped_start or found[-1].end == stripped_end:
            self.add(
                "BODY",
                "starts or ends with a variable",
                "put some text before the first and after the last variable",
                ERR_START_END,
            )
        for left, right in itertools.pairwise(found):
            if not text[left.end : right.start].strip():
                self.add(
                    "BODY",
                    f"variables {{{{{left.key}}}}} and {{{{{right.key}}}}} are next to each other",
                    "put words between them",
                    REJECTED_FORMAT,
                )
                break

    def example_values(self, where: str, keys: list[str], example: Any, kind: str, *, nested: bool) -> None:
        """One example per variable: ``{kind: [..]}`` (body: ``[[..]]``) or ``{kind_named_params: [..]}``."""
        fix_simple = "give examples (body) or header_example (header)"
        if not isinstance(example, Mapping):
            self.add(where, f"has {len(keys)} variable(s) but no example values", f"{fix_simple}: one per variable")
            return
        if self.format == "NAMED" or (keys and not keys[0].isdigit()):
            self.named_examples(where, keys, example.get(f"{kind}_named_params"))
            return
        values = example.get(kind)
        if nested:
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                self.add(where, "examples must be an array inside an array", f'write "{kind}": [[...]]')
                return
            if not isinstance(values, list) or len(values) != 1 or not isinstance(values[0], list):
                self.add(where, f"has no example values ({kind})", f"{fix_simple}: {kind} = [[one per variable]]")
                return
            values = values[0]
        if not isinstance(values, list):
            self.add(where, f"has no example values ({kind})", f"{fix_simple}: one per variable")
            return
        if len(values) != len(keys):
            self.add(
                where,
                f"has {len(keys)} variable(s) but {len(values)} example value(s)",
                "give one example per variable",
            )
        for value in values:
            if not isinstance(value, str) or not value.strip():
                self.add(where, f"example {str(value)[:30]!r} is not a text", "write examples as non-empty texts")
                break
            if "{{" in value:
                self.add(where, f"example {value[:30]!r} contains a variable", "write the value a customer would see")
                break

    def named_examples(self, where: str, keys: list[str], params: Any) -> None:
        if not isinstance(params, list):
            self.add(where, f"has {len(keys)} named variable(s) but no named examples", "give a value for each name")
            return
        names: list[str] = []
        for param in params:
            if not isinstance(param, Mapping) or not isinstance(param.get("param_name"), str):
                self.add(
                    where,
                    "a named example needs param_name and example",
                    '{"param_name": "first_name", "example": "Ana"}',
                )
                return
            if not isinstance(param.get("example"), str) or not param["example"].strip():
                self.add(
                    where, f"the example of {param['param_name'][:30]} is not a text", "write it as a non-empty text"
                )
            names.append(param["param_name"])
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            self.add(where, f"names {', '.join(duplicates)} more than once", "give each name one example")
        missing = [k for k in keys if k not in names]
        extra = [n for n in names if n not in keys]
        if missing:
            self.add(where, f"has no example for {', '.join(missing)}", "give one example per variable")
        if extra:
            self.add(where, f"has examples for {', '.join(n[:30] for n in extra)} which it does not use", "remove them")

    # -- footer --------------------------------------------------------------------------------
    def footer(self, footer: Mapping[str, Any]) -> None:
        minutes = footer.get("code_expiration_minutes")
        if self.auth:
            if footer.get("text") is not None:
                self.add(
                    "FOOTER", "authentication footers have no text", "give code_expiration_minutes instead", ERR_FOOTER
                )
            if minutes is not None and (not is_int(minutes) or minutes not in CODE_EXPIRATION):
                self.add("FOOTER", "code_expiration_minutes must be 1 to 90", "e.g. code_expiration_minutes = 5")
            return
        if minutes is not None:
            self.add("FOOTER", "code_expiration_minutes is for authentication templates", "remove it", ERR_FOOTER)
        text = footer.get("text")
        if not isinstance(text, str) or not text.strip():
            self.add("FOOTER", "has no text", "add footer_text or remove the footer", ERR_FOOTER)
            return
        if len(text) > FOOTER_MAX:
            self.add("FOOTER", f"text is {len(text)} characters; Meta allows {FOOTER_MAX}", "shorten it", ERR_TOO_LONG)
        found, malformed = placeholders(text)
        if found or malformed:
            self.add("FOOTER", "contains a variable; footers are fixed text", "remove the variable", ERR_FOOTER)

    # -- buttons -------------------------------------------------------------------------------
    def buttons(self, component: Mapping[str, Any]) -> None:
        buttons = component.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            self.add("BUTTONS", "has no buttons", "add buttons or remove the component")
            return
        if len(buttons) > BUTTONS_MAX:
            self.add("BUTTONS", f"has {len(buttons)} buttons; Meta allows {BUTTONS_MAX}", "remove some")
        kinds: list[str] = []
        for index, button in enumerate(buttons):
            where = f"BUTTONS[{index + 1}]"
            if not isinstance(button, Mapping):
                self.add(where, f"must be an object, not {type_name(button)}", "write it as {type: ..., text: ...}")
                kinds.append("?")
                continue
            kind = upper_text(button.get("type")) or "?"
            kinds.append(kind)
            unknown = [str(k)[:30] for k in button if k not in BUTTON_KEYS]
            if unknown and kind in BUTTON_TYPES:
                self.warn(f"{where} {kind}", f"has key(s) Meta does not know: {', '.join(unknown)}", "check them")
            self.button(f"{where} {kind}", kind, button)
        self.button_counts(kinds)

    def button_counts(self, kinds: list[str]) -> None:
        for kind, most in (("URL", URL_BUTTONS_MAX), ("PHONE_NUMBER", 1), ("COPY_CODE", 1), ("FLOW", 1), ("OTP", 1)):
            if kinds.count(kind) > most:
                self.add(
                    "BUTTONS", f"has {kinds.count(kind)} {kind} buttons; Meta allows {most}", "remove the extra ones"
                )
        groups = [kind == "QUICK_REPLY" for kind in kinds]
        blocks = 1 + sum(1 for a, b in itertools.pairwise(groups) if a != b)
        if blocks > 2:
            self.add(
                "BUTTONS",
                "quick replies and other buttons are interleaved",
                "group them: all quick replies first or last (QR, QR, URL, PHONE)",
            )
        if self.auth and any(kind != "OTP" for kind in kinds):
            self.add("BUTTONS", "authentication templates take only an OTP button", "keep one OTP button")
        if self.auth and "OTP" not in kinds:
            self.add("BUTTONS", "authentication templates need an OTP button", "add a button OTP:Copy code")

    def button(self, where: str, kind: str, button: Mapping[str, Any]) -> None:
        if kind in SPECIALISED_BUTTONS:
            self.violations.append(
                Violation(
                    where,
                    f"{kind} buttons are not checked by waba",
                    "check it in WhatsApp Manager",
                    ERR_PARAMETER,
                    "warning",
                )
            )
            return
        if kind not in BUTTON_TYPES:
            self.add(where, "is not a button type Meta knows", f"use one of {', '.join(BUTTON_TYPES)}")
            return
        if kind == "OTP":
            self.otp_button(where, button)
            return
        if self.category == "AUTHENTICATION":
            return  # reported once by button_counts
        if kind == "COPY_CODE":
            example = button.get("example")
            if not isinstance(example, str) or not example.strip():
                self.add(where, "needs an example code", "e.g. COPY_CODE:SAVE20")
            elif len(example) > COPY_CODE_MAX:
                self.add(
                    where,
                    f"example is {len(example)} characters; Meta allows {COPY_CODE_MAX}",
                    "shorten it",
                    ERR_TOO_LONG,
                )
            return
        self.button_text(where, button.get("text"), required=True)
        if kind == "URL":
            self.url_button(where, button)
        elif kind == "PHONE_NUMBER":
            number = button.get("phone_number")
            if not isinstance(number, str) or not number.strip():
                self.add(where, "needs a phone_number", "e.g. PHONE_NUMBER:Call us:+15550051310")
            elif len(number) > PHONE_MAX or not _PHONE_RE.match(re.sub(r"[\s\-().]", "", number)):
                self.add(
                    where, f"{number[:30]!r} is not a phone number with country code", "write it as +<country><number>"
                )
        elif kind == "FLOW":
            self.flow_button(where, button)

    def button_text(self, where: str, text: Any, *, required: bool) -> None:
        if text is None and not required:
            return
        if not isinstance(text, str) or not text.strip():
            self.add(where, "has no text", "give the button a label")
            return
        if len(text) > BUTTON_TEXT_MAX:
            self.add(
                where, f"text is {len(text)} characters; Meta allows {BUTTON_TEXT_MAX}", "shorten it", ERR_TOO_LONG
            )
        if "\n" in text or placeholders(text)[0]:
            self.add(where, "text has a newline or a variable", "button labels are one line of fixed text")

    def url_button(self, where: str, button: Mapping[str, Any]) -> None:
        url = button.get("url")
        if not isinstance(url, str) or not url.strip():
            self.add(where, "needs a url", "e.g. URL:Track:https://example.com/track/{{1}}")
            return
        if len(url) > URL_MAX:
            self.add(where, f"url is {len(url)} characters; Meta allows {URL_MAX}", "shorten it", ERR_TOO_LONG)
        found, malformed = placeholders(url)
        if malformed:
            self.add(where, f"url has a malformed variable {malformed[0]}", "write it as {{1}} at the end")
        if not _URL_RE.match(PLACEHOLDER_RE.sub("x", url)):
            self.add(where, f"{url[:60]!r} is not an http(s) URL", "write it as https://host/path")
        example = button.get("example")
        if not found:
            if example is not None:
                self.add(where, "has an example but its url has no variable", "remove the example")
            return
        if len(found) > 1 or found[0].key != "1" or found[0].end != len(url.rstrip()):
            self.add(where, "url variable must be one {{1}} at the very end", "e.g. https://example.com/track/{{1}}")
        if (
            not isinstance(example, list)
            or len(example) != 1
            or not isinstance(example[0], str)
            or not example[0].strip()
        ):
            self.add(where, "url variable needs one example value", 'give it (--url-example V, or example = ["..."])')

    def flow_button(self, where: str, button: Mapping[str, Any]) -> None:
        given = [k for k in ("flow_id", "flow_name", "flow_json") if button.get(k) not in (None, "")]
        if len(given) != 1:
            self.add(
                where, "needs exactly one of flow_id, flow_name or flow_json", "e.g. FLOW:Book now:<flow id or name>"
            )
        for key in given:
            if not isinstance(button[key], str | int) or isinstance(button[key], bool):
                self.add(where, f"{key} must be a text", f"write {key} as a string")
        action = button.get("flow_action")
        if action is not None and (not isinstance(action, str) or action.lower() not in FLOW_ACTIONS):
            self.add(where, f"flow_action {str(action)[:30]!r} is unknown", "use navigate or data_exchange")
        elif (
            isinstance(action, str) and action.lower() == "data_exchange" and button.get("navigate_screen") is not None
        ):
            self.add(where, "navigate_screen is only for the navigate action", "remove navigate_screen")

    def otp_button(self, where: str, button: Mapping[str, Any]) -> None:
        if self.category not in (None, "AUTHENTICATION"):
            self.add(
                where, "OTP buttons are for authentication templates", "use category AUTHENTICATION or another button"
            )
            return
        otp_type = upper_text(button.get("otp_type"))
        if otp_type not in OTP_TYPES:
            self.add(
                where, f"otp_type {str(button.get('otp_type'))[:30]!r} is unknown", f"use one of {', '.join(OTP_TYPES)}"
            )
        self.button_text(where, button.get("text"), required=False)
        self.button_text(where + " autofill_text", button.get("autofill_text"), required=False)
        apps: list[Any] = []
        if button.get("package_name") is not None or button.get("signature_hash") is not None:
            apps.append({"package_name": button.get("package_name"), "signature_hash": button.get("signature_hash")})
        supported = button.get("supported_apps")
        if supported is not None:
            if not isinstance(supported, list) or len(supported) > SUPPORTED_APPS_MAX:
                self.add(where, f"supported_apps must be a list of at most {SUPPORTED_APPS_MAX} apps", "remove some")
            else:
                apps.extend(supported)
        if otp_type in ("ONE_TAP", "ZERO_TAP") and not apps:
            self.add(
                where,
                f"a {otp_type} button needs the app's package_name and signature_hash",
                "add them (or use COPY_CODE)",
            )
        for app in apps:
            if not isinstance(app, Mapping):
                self.add(
                    where,
                    "each supported app needs package_name and signature_hash",
                    "write {package_name, signature_hash}",
                )
                continue
            package, signature = app.get("package_name"), app.get("signature_hash")
            if not isinstance(package, str) or not package or len(package) > PACKAGE_NAME_MAX:
                self.add(where, f"package_name must be 1 to {PACKAGE_NAME_MAX} characters", "e.g. com.example.app")
            if not isinstance(signature, str) or len(signature) != SIGNATURE_HASH_LEN:
                self.add(
                    where,
                    f"signature_hash must be exactly {SIGNATURE_HASH_LEN} characters",
                    "copy it from the app's signing key",
                )
        if otp_type == "ZERO_TAP" and button.get("zero_tap_terms_accepted") is not True:
            self.add(where, "ZERO_TAP needs zero_tap_terms_accepted = true", "accept Meta's zero-tap terms")
