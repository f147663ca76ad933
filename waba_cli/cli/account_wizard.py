"""`waba account setup` on a terminal: the 6-step wizard, a careful colleague at the keyboard.

It walks ``domain.setup_steps`` in order, one screen per step (`Step i/6 — name`), each value with
its help line and the same check as a setup file, re-asked with the reason until it passes. Where
Meta allows it, it offers choices instead of ids: the WABAs the access token reaches and the
chosen WABA's numbers (the token is asked the first time discovery needs it). After step 3 it
checks everything live (``services.accounts.checks``) and stops on what would break later: a token
that expires, a missing permission, a number of another WABA, a number not registered (offered
registration) or waiting for Meta (told what to wait for). Every answer is kept for `--resume`
(``services.accounts.progress``, secrets encrypted), so Ctrl-C costs nothing typed. Nothing is
saved or changed at Meta before the summary is confirmed; then ``services.accounts.wizard`` saves,
subscribes, registers, pushes the profile and waits for the round trip.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from waba_cli.domain import setup_steps as steps
from waba_cli.domain import validators
from waba_cli.errors import OperationError, ValidationError, WabaError

if TYPE_CHECKING:
    from waba_cli.db.models.accounts import Account, PhoneNumber
    from waba_cli.services.accounts.checks import LiveReport
    from waba_cli.services.accounts.discovery import NumberChoice, WabaChoice
    from waba_cli.services.context import CommandContext
    from waba_cli.ui.prompts import Prompter

# a message from the operator's phone is waited for this long (Enter skips)
ROUND_TRIP_SECONDS = 180.0
# asked only when the field they depend on is on
CONDITIONS = {
    "greeting_message": "enable_auto_reply",
    "fallback_message": "enable_auto_reply",
    "knowledge_base_path": "use_knowledge_base",
    "out_of_hours_message": "enable_business_hours",
    "business_hours_start": "enable_business_hours",
    "business_hours_end": "enable_business_hours",
}
CUSTOMER_EXAMPLE = "+15551230001"


@dataclass
class WizardResult:
    account: Account
    numbers: list[PhoneNumber]
    report: LiveReport | None
    done: list[str] = field(default_factory=list)  # what happened after the save


class SetupWizard:
    """One run of the wizard; ``run()`` returns the saved account."""

    def __init__(
        self,
        ctx: CommandContext,
        ask: Prompter,
        *,
        verify: bool = True,
        answers: dict[str, Any] | None = None,
        step: int = 1,
        choices: dict[str, Any] | None = None,
        only_missing: bool = False,
    ) -> None:
        self.ctx = ctx
        self.ask = ask
        self.verify = verify
        self.answers: dict[str, Any] = dict(answers or {})
        self.step = step
        self.choices: dict[str, Any] = dict(choices or {})
        self.only_missing = only_missing  # a setup file gave the rest: ask only the required keys it lacks
        self.token: dict[str, Any] | None = None  # debug_token of the access token
        self.numbers: list[NumberChoice] | None = None
        self.report: LiveReport | None = None
        self.region = ctx.settings.region
        self._notes: list[str] = []

    # -- the whole walk ----------------------------------------------------------------------

    def run(self) -> WizardResult:
        self.ctx.cipher()  # no key, no wizard: the answers could not be kept safely
        try:
            self._walk()
            setup = self._summary_until_saved()
        except (KeyboardInterrupt, EOFError):
            self._interrupted()
            raise KeyboardInterrupt from None
        except WabaError:
            self._remember()
            self.ask.warn("your answers are kept: `waba account setup --resume` continues where this stopped")
            raise
        return self._after_save(setup)

    def _walk(self) -> None:
        first = self.step
        for number in range(first, len(steps.STEPS) + 1):
            self.step = number
            self._remember()
            getattr(self, f"_step{number}")()
        self.step = len(steps.STEPS) + 1
        self._remember()

    def _interrupted(self) -> None:
        self._remember()
        from waba_cli.services.accounts.progress import path_of

        shown = min(self.step, len(steps.STEPS))
        self.ask.say("")
        self.ask.warn(
            f"interrupted at step {shown}/{len(steps.STEPS)}: your answers are kept in {path_of(self.ctx.settings)} "
            "(secrets encrypted); `waba account setup --resume` continues there"
        )

    def _remember(self) -> None:
        from waba_cli.services.accounts import progress as setup_progress

        setup_progress.save(
            self.ctx.settings,
            self.ctx.cipher(),
            setup_progress.Progress(self.answers, min(self.step, len(steps.STEPS) + 1), self.choices),
        )

    def _screen(self, number: int) -> bool:
        """The step's screen, unless it has nothing to ask (a setup file gave it all)."""
        step = steps.STEPS[number - 1]
        if self.only_missing and not self._to_ask(number) and number != 3:
            return False
        self.ask.screen(f"Step {number}/{len(steps.STEPS)} — {step.name}")
        return True

    # -- asking one value --------------------------------------------------------------------

    def _to_ask(self, number: int) -> list[steps.SetupField]:
        fields = list(steps.fields_of(number))
        names = [f.name for f in fields]
        for item in list(fields):  # a field whose condition comes later is asked after it
            controller = CONDITIONS.get(item.name)
            if controller in names and names.index(controller) > names.index(item.name):
                fields.remove(item)
                fields.insert([f.name for f in fields].index(controller) + 1, item)
        if self.only_missing:
            return [f for f in fields if f.required and self.answers.get(f.name) in (None, "")]
        return [f for f in fields if f.name not in self.answers]

    def _applies(self, item: steps.SetupField) -> bool:
        controller = CONDITIONS.get(item.name)
        return controller is None or bool(self.answers.get(controller))

    def _check(self, item: steps.SetupField, text: str) -> Any:
        """The field's value from ``text`` (empty: its default), by the setup file's own check."""
        from waba_cli.services.accounts.setup import check_value, taken

        raw: Any = text.strip()
        if raw == "":
            if item.required:
                raise ValueError("is required")
            default = item.default
            return list(default) if isinstance(default, tuple) else default
        if item.type == list[str]:
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        try:
            value, notes = check_value(item.name, raw, region=self.region)
        except ValidationError as exc:
            raise ValueError(exc.problem) from None
        if item.name in ("name", "waba_id", "phone_number_id"):
            conflict = taken(self.ctx, item.name, value)
            if conflict:
                raise ValueError(conflict)
        self._notes = notes
        return value

    def _ask_field(self, item: steps.SetupField, *, default: Any = None, note: str | None = None) -> Any:
        self._notes = []
        self.ask.help_line(item.help)
        if note:
            self.ask.help_line(note)
        if item.type is bool:
            current = default if isinstance(default, bool) else bool(item.default)
            value: Any = self.ask.confirm(item.name, default=current)
        else:
            label = item.name if item.required else f"{item.name} (optional)"
            if item.secret and item.name == "webhook_verify_token":
                label = f"{item.name} (Enter: generate one)"
            value = self.ask.ask(
                label,
                lambda text: self._check(item, text),
                default=None if item.secret else _shown(default if default is not None else item.default),
                secret=item.secret,
                choices=_choices(item.name),
                several=item.type == list[str],
            )
            if item.name == "webhook_verify_token" and not value:
                value = secrets.token_urlsafe(24)
                self.ask.ok("generated a random verify token (shown after saving, to paste into the App Dashboard)")
        for line in self._notes:
            self.ask.help_line(f"note: {line}")
        self.answers[item.name] = value
        self._remember()
        return value

    def _ask_step(self, number: int, defaults: dict[str, Any] | None = None) -> None:
        for item in self._to_ask(number):
            if self._applies(item) and item.name not in self.answers:
                self._ask_field(item, default=(defaults or {}).get(item.name))

    # -- step 1: Meta Business Account -------------------------------------------------------

    def _step1(self) -> None:
        if not self._screen(1):
            return
        for item in self._to_ask(1):
            if item.name in self.answers:
                continue
            if item.name == "waba_id":
                self._ask_waba()
            elif item.name == "meta_business_account_id":
                self._ask_field(item, default=self.choices.get("business_id"))
            elif item.name == "app_id":
                self._ask_field(item, default=(self.token or {}).get("app_id"))
            else:
                self._ask_field(item)

    def _ask_waba(self) -> None:
        item = steps.BY_NAME["waba_id"]
        self.ask.help_line(item.help)
        self.ask.help_line("Enter alone: choose from the WABAs your access token reaches (it is asked now)")
        typed = self.ask.ask("waba_id", lambda text: self._check(item, text) if text.strip() else "")
        if typed:
            self.answers["waba_id"] = typed
            self._remember()
            return
        self._token_now("to find your WABAs")
        from waba_cli.services.accounts.discovery import wabas_of

        assert self.token is not None
        found = wabas_of(self.ctx, self.answers["access_token"], self.token, self.answers.get("app_secret"))
        if not found:
            self.ask.warn(
                "the token reaches no WABA Meta would list; type its id (App Dashboard > WhatsApp > API Setup)"
            )
            self._ask_field(item)
            return
        choice: WabaChoice | str = self.ask.pick(
            "WABA",
            ["WABA ID", "NAME", "BUSINESS", "FOUND"],
            [[w.id, w.name or "", w.business_name or w.business_id or "", w.via] for w in found],
            typed=lambda text: self._check(item, text),
            chosen=lambda index: found[index],
            title="The WABAs your token reaches",
        )
        if isinstance(choice, str):
            self.answers["waba_id"] = choice
        else:
            conflict = self._taken("waba_id", choice.id)
            if conflict:
                self.ask.warn(f"waba_id: {conflict}")
                self._ask_field(item)
                return
            self.answers["waba_id"] = choice.id
            if choice.business_id:
                self.choices["business_id"] = choice.business_id
            self.ask.ok(f"WABA {choice.id} ({choice.name or 'no name'})")
        self._remember()

    def _taken(self, key: str, value: str) -> str | None:
        from waba_cli.services.accounts.setup import taken

        return taken(self.ctx, key, value)

    def _token_now(self, why: str) -> None:
        """The access token (step 3's), asked now if not known, and Meta's word on it."""
        from waba_cli.graph.errors import GraphError
        from waba_cli.services.accounts.discovery import inspect_token

        while self.token is None:
            if not self.answers.get("access_token"):
                self._ask_field(steps.BY_NAME["access_token"], note=f"step 3's access token, asked now {why}")
            try:
                info = inspect_token(
                    self.ctx,
                    self.answers["access_token"],
                    app_id=self.answers.get("app_id"),
                    app_secret=self.answers.get("app_secret"),
                )
            except GraphError as exc:
                info = {"is_valid": False, "error": {"message": exc.message}}
            if not info.get("is_valid"):
                reason = (info.get("error") or {}).get("message", "expired or revoked")
                self.ask.warn(f"access_token: Meta says the token is not valid ({reason}); type another")
                self.answers.pop("access_token", None)
                continue
            self.token = info
            self.ask.ok(
                f"a valid {info.get('type') or 'access'} token of app {info.get('application') or info.get('app_id')}"
            )

    # -- step 2: Phone Number ----------------------------------------------------------------

    def _step2(self) -> None:
        if not self._screen(2):
            return
        defaults: dict[str, Any] = {}
        if "phone_number_id" not in self.answers and any(f.name == "phone_number_id" for f in self._to_ask(2)):
            chosen = self._ask_number()
            if chosen is not None:
                defaults = {"phone_number": chosen.phone_number, "display_phone_number": chosen.display_phone_number}
        elif self.numbers:
            known = next((n for n in self.numbers if n.id == self.answers.get("phone_number_id")), None)
            if known is not None:
                defaults = {"phone_number": known.phone_number, "display_phone_number": known.display_phone_number}
        self._ask_step(2, defaults)

    def _ask_number(self) -> NumberChoice | None:
        item = steps.BY_NAME["phone_number_id"]
        if not self.answers.get("access_token"):
            self.ask.help_line(item.help)
            self.ask.help_line("Enter alone: choose from the WABA's numbers (your access token is asked now)")
            typed = self.ask.ask("phone_number_id", lambda text: self._check(item, text) if text.strip() else "")
            if typed:
                self.answers["phone_number_id"] = typed
                self._remember()
                return None
        self._token_now("to list the WABA's numbers")
        from waba_cli.graph.errors import GraphError
        from waba_cli.services.accounts.discovery import numbers_of

        try:
            self.numbers = numbers_of(
                self.ctx, self.answers["access_token"], self.answers["waba_id"], self.answers.get("app_secret")
            )
        except GraphError as exc:
            self.ask.warn(f"the numbers of WABA {self.answers['waba_id']} cannot be read: {exc.message}")
            self.numbers = []
        numbers = self.numbers
        if not numbers:
            self.ask.warn("no number to choose from; type its id (App Dashboard > WhatsApp > API Setup)")
            self._ask_field(item)
            return None
        self.ask.help_line(item.help)
        choice: NumberChoice | str = self.ask.pick(
            "number",
            ["NUMBER", "VERIFIED NAME", "QUALITY", "STATUS", "CAN SEND"],
            [
                [n.display_phone_number or n.id, n.verified_name, n.quality_rating, n.status, _verdict(n)]
                for n in numbers
            ],
            typed=lambda text: self._check(item, text),
            chosen=lambda index: numbers[index],
            title=f"The numbers of WABA {self.answers['waba_id']}",
        )
        picked = next((n for n in numbers if n.id == choice), None) if isinstance(choice, str) else choice
        number_id = choice if isinstance(choice, str) else choice.id
        conflict = self._taken("phone_number_id", number_id)
        if conflict:
            self.ask.warn(f"phone_number_id: {conflict}")
            self._ask_field(item)
            return None
        self.answers["phone_number_id"] = number_id
        self._remember()
        if picked is not None:
            self.ask.ok(f"number {picked.display_phone_number or picked.id} ({picked.verified_name or 'no name'})")
        return picked

    # -- step 3: Access Tokens, then the live checks -----------------------------------------

    def _step3(self) -> None:
        self._screen(3)
        self._ask_step(3)
        if self.verify:
            self._live_checks()

    def _live_checks(self) -> None:
        from waba_cli.services.accounts import checks

        while True:
            self.ask.say("Checking with Meta…", "dim")
            report = checks.check_setup(self.ctx, self._credentials())
            self.ask.table(["CHECK", "STATUS", "DETAIL"], [[c.name, c.status.upper(), c.detail] for c in report.checks])
            # the subscription is step 6's to fix; everything else is fixed here
            failures = [c for c in report.failures if c.name != "subscription"]
            if failures:
                self._fix(failures[0])
                continue
            expiry = report.of("expiry")
            if expiry is not None and expiry.status == checks.WARNING:
                self.ask.loud(
                    "This token expires", [expiry.detail, "", "To keep waba working, " + checks.SYSTEM_USER_TOKEN + "."]
                )
                if not self.ask.confirm("Keep this token anyway?", default=False):
                    self.answers.pop("access_token", None)
                    self.token = None
                    self._ask_field(steps.BY_NAME["access_token"])
                    continue
            scopes = report.of("scopes")
            if scopes is not None and scopes.status == checks.WARNING:
                self.ask.warn(scopes.detail)
            self.report = report
            passed = sum(1 for c in report.checks if c.status == checks.OK)
            later = " (the subscription is settled at step 6)" if report.failures else ""
            self.ask.ok(f"{passed} of {len(report.checks)} live checks passed{later}")
            self._number_state(report)
            return

    def _credentials(self) -> dict[str, Any]:
        keys = ("app_id", "app_secret", "access_token", "waba_id", "phone_number_id")
        return {k: self.answers[k] for k in keys}

    def _fix(self, failure: Any) -> None:
        """Re-ask the value a failed check blames, or ask to check again."""
        self.ask.warn(f"{failure.name}: {failure.detail}")
        if failure.hint:
            self.ask.help_line(failure.hint)
        if failure.key is None:
            if not self.ask.confirm("Check again?", default=True):
                raise OperationError(f"the live check {failure.name} failed: {failure.detail}", failure.hint)
            return
        self.answers.pop(failure.key, None)
        if failure.key in ("access_token", "app_id", "app_secret"):
            self.token = None
        self._ask_field(steps.BY_NAME[failure.key])

    def _number_state(self, report: LiveReport) -> None:
        from waba_cli.domain import numbers as rules
        from waba_cli.services.accounts.checks import diagnosis_of, may_register_now

        diagnosis = diagnosis_of(report, self.answers["phone_number_id"])
        if diagnosis is None:
            return
        shown = diagnosis.facts.display_phone_number or diagnosis.facts.phone_number_id
        if may_register_now(diagnosis):
            self.choices["register"] = self.ask.confirm(
                f"{shown} is not registered with the Cloud API yet. Register it after saving, with a generated "
                "6-digit PIN kept encrypted?",
                default=True,
            )
            return
        for finding in diagnosis.findings:
            if finding.severity != rules.INFO:
                self.ask.warn(f"{shown}: {finding.message}" + (f" — next: {finding.next}" if finding.next else ""))
        if not diagnosis.can_send:
            self.ask.help_line("waba saves the account anyway; `waba number doctor` tells when the number is ready")

    # -- steps 4 to 6 ------------------------------------------------------------------------

    def _step4(self) -> None:
        if not self._screen(4):
            return
        self._ask_step(4)
        from waba_cli.services.accounts.wizard import profile_change

        if self.verify and "push_profile" not in self.choices and profile_change(self.answers):
            self.choices["push_profile"] = self.ask.confirm(
                "Push this business profile to Meta for the number after saving?", default=True
            )

    def _step5(self) -> None:
        if not self._screen(5):
            return
        self._ask_step(5)
        while True:
            try:
                steps.check_together(self.answers)
            except ValueError as exc:
                key = str(exc).split(" ", 1)[0]
                self.ask.warn(str(exc))
                self.answers.pop(key, None)
                self._ask_field(steps.BY_NAME[key])
            else:
                return

    def _step6(self) -> None:
        from waba_cli.services.accounts.wizard import default_webhook_url

        if self._screen(6):
            self._ask_step(6, {"webhook_url": default_webhook_url(self.ctx.settings)})
        if self.report is not None:
            if self.report.subscribed:
                self.ask.ok(f"the app is subscribed to WABA {self.answers['waba_id']}: its webhooks reach the app")
                self.choices["subscribe"] = False
            else:
                self.ask.warn(
                    f"the app is not subscribed to WABA {self.answers['waba_id']}: no message would arrive. "
                    "waba subscribes it right after saving (before any callback override, as Meta requires)"
                )
                self.choices["subscribe"] = True

    # -- the summary and the save ------------------------------------------------------------

    def _summary_until_saved(self) -> dict[str, Any]:
        from waba_cli.services.accounts.setup import parse_setup

        while True:
            try:
                parsed = parse_setup(self.answers, region=self.region)
            except ValidationError as exc:
                self.ask.warn(str(exc))
                self.answers.pop(exc.field, None)
                self.step = steps.BY_NAME[exc.field].step or 1
                self._ask_field(steps.BY_NAME[exc.field])
                continue
            for note in parsed.notes:
                self.ask.help_line(f"note: {note}")
            self._show_summary(parsed.setup)
            answer = self.ask.ask(
                "Save this account? (y: save, n: stop here, 1-6: change that step)", _save_answer, default="y"
            )
            if answer == "y":
                return parsed.setup
            if answer == "n":
                self._remember()
                from waba_cli.errors import UsageError

                raise UsageError("nothing was saved", "`waba account setup --resume` shows these answers again")
            self._redo(int(answer))

    def _redo(self, number: int) -> None:
        """Ask a step again, each value with the current one as its default."""
        self.step = number
        self.ask.screen(f"Step {number}/{len(steps.STEPS)} — {steps.STEPS[number - 1].name} (again)")
        for item in steps.fields_of(number):
            if self._applies(item):
                current = self.answers.pop(item.name, None)
                self._ask_field(item, default=None if item.secret else current)
        if number <= 3 and self.verify:
            self.token = None
            self._live_checks()
        self.step = len(steps.STEPS) + 1
        self._remember()

    def _show_summary(self, setup: dict[str, Any]) -> None:
        from waba_cli.secrets import mask

        rows = []
        for step in steps.STEPS:
            for item in steps.fields_of(step.number):
                value = setup.get(item.name)
                shown = mask(value) if item.secret and value else _shown(value)
                rows.append([f"{step.number}", item.name, shown or "-"])
        self.ask.screen("Summary — nothing is saved yet")
        self.ask.table(["STEP", "KEY", "VALUE"], rows)
        then = []
        if self.choices.get("subscribe"):
            then.append(f"subscribe the app to WABA {setup['waba_id']}")
        if self.choices.get("register"):
            then.append(f"register {setup['display_phone_number']} with a generated PIN (kept encrypted)")
        if self.choices.get("push_profile"):
            then.append("push the business profile to Meta")
        if then:
            self.ask.say("After saving, waba will " + "; ".join(then) + ".")

    def _after_save(self, setup: dict[str, Any]) -> WizardResult:
        from waba_cli.services.accounts import progress as setup_progress
        from waba_cli.services.accounts.setup import save_account, subscribe_app

        account, numbers = save_account(self.ctx, setup, self.report)
        setup_progress.clear(self.ctx.settings)
        self.ask.ok(f"account {account.name} (WABA {account.waba_id}) saved; secrets stored encrypted")
        result = WizardResult(account, numbers, self.report)
        number = numbers[0]
        actions: list[tuple[str, Callable[[], object], str]] = [
            ("subscribe", lambda: subscribe_app(self.ctx, account), f"app subscribed to WABA {account.waba_id}"),
            ("register", lambda: self._register(account, number), ""),
            ("push_profile", lambda: self._push_profile(account, number, setup), "business profile pushed to Meta"),
        ]
        for choice, action, done in actions:
            if not self.choices.get(choice):
                continue
            try:
                said = action()
            except WabaError as exc:
                self.ask.warn(f"{choice.replace('_', ' ')} failed: {exc}")
                continue
            self.ask.ok(said if isinstance(said, str) and said else done)
            result.done.append(choice)
        self._webhook_panel(setup)
        question = "Try the round trip now (a message from your phone, stored by serve-webhook)?"
        if self.verify and self.ask.confirm(question, default=True) and self._round_trip(account, number):
            result.done.append("round_trip")
        return result

    def _register(self, account: Account, number: PhoneNumber) -> str:
        from waba_cli.services.accounts.wizard import register_number

        registered = register_number(self.ctx, account, number)
        pin = (
            f"; its two-step PIN is {registered.generated_pin} (kept encrypted, shown once)"
            if registered.generated_pin
            else ""
        )
        return f"{number.phone_number} registered with the Cloud API{pin}"

    def _push_profile(self, account: Account, number: PhoneNumber, setup: dict[str, Any]) -> str:
        from waba_cli.services.accounts.wizard import push_profile

        pushed = push_profile(self.ctx, account, number, setup)
        return f"business profile of {number.phone_number} pushed to Meta: {', '.join(pushed.changed)}"

    def _webhook_panel(self, setup: dict[str, Any]) -> None:
        from waba_cli.services.accounts.wizard import callback_url

        url = callback_url(self.ctx.settings, setup)
        self.ask.screen(
            "Webhook — paste into App Dashboard > WhatsApp > Configuration",
            [
                f"Callback URL:  {url or '(none yet: set webhook_url, or webhook.public_base_url in the config)'}",
                f"Verify token:  {setup.get('webhook_verify_token') or '(none)'}",
                f"Fields:        {', '.join(setup.get('subscribed_webhook_events') or [])}",
                "Run `waba serve-webhook` where that URL reaches (behind your TLS proxy).",
            ],
        )

    def _round_trip(self, account: Account, number: PhoneNumber) -> bool:
        from waba_cli.services.accounts.wizard import inbound_after, last_message_id

        after = last_message_id(self.ctx)
        shown = number.display_phone_number or number.phone_number
        self.ask.say(
            f"Send any message to {shown} from your phone now. Waiting up to {ROUND_TRIP_SECONDS:.0f} s for "
            "`waba serve-webhook` to store it (Enter skips)."
        )
        if _is_local(self.ctx.settings.graph_base_url):
            self.ask.help_line(
                f"The Graph API here is the local sandbox: `waba sandbox inbound --to {number.phone_number} "
                f"--from {CUSTOMER_EXAMPLE} --text hi` stands in for the phone."
            )
        got = self.ask.wait_for(lambda: inbound_after(self.ctx, account, after), timeout=ROUND_TRIP_SECONDS)
        if got is None:
            self.ask.warn(
                "no message arrived: is serve-webhook running and reachable at the callback URL, the callback "
                f"set in the App Dashboard, and `waba account verify {account.name}` all green?"
            )
            return False
        said = f" {got.text!r}" if got.text else f" a {got.type} message"
        self.ask.ok(f"inbound works end to end: {got.contact} wrote{said}, stored by serve-webhook")
        return True


def _save_answer(text: str) -> str:
    answer = text.strip().lower()
    if answer in ("y", "yes", "n", "no"):
        return answer[0]
    if answer.isdigit() and 1 <= int(answer) <= len(steps.STEPS):
        return answer
    raise ValueError(f"answer y, n or a step number 1-{len(steps.STEPS)}")


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, time):
        return value.strftime("%H:%M") if not value.second else value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _choices(name: str) -> list[str]:
    if name == "business_vertical":
        return [*validators.VERTICALS, *(word.title().replace("_", " ") for word in validators.VERTICAL_ALIASES)]
    if name == "business_timezone":
        return validators.time_zones()
    if name == "subscribed_webhook_events":
        return [*validators.WEBHOOK_FIELDS, *validators.LEGACY_WEBHOOK_FIELDS]
    return []


def _verdict(number: NumberChoice) -> str:
    if number.verdict == "OK":
        return "yes"
    return (
        f"{'no' if number.verdict == 'BLOCKED' else 'yes, but'}: {number.reason}" if number.reason else number.verdict
    )


def _is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in validators.LOOPBACK_HOSTS
