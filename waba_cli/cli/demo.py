"""`waba demo`: the whole loop on this machine, no Meta account needed.

The sandbox and `serve-webhook` run as subprocesses on free loopback ports; every other step is
the real `waba` command, shown in full (`$ waba ...`, to copy) and run with the demo's environment:
a fresh WABA_HOME with its own key file, the sandbox as the Graph API (`demo_run` runs them). With
--json the narration goes to stderr and stdout holds one JSON document: the steps, each with its
commands and outcome, and the overall result.
"""

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from waba_cli import private
from waba_cli.cli.common import command, out
from waba_cli.cli.demo_run import DemoRunner, environment, free_port, say, say_on_stderr

CUSTOMER = "+15551230001"
DEMO_TEMPLATE_NAME = "payment_received"
DEMO_TEMPLATE: dict[str, Any] = {
    "name": DEMO_TEMPLATE_NAME,
    "category": "UTILITY",
    "language": "en_US",
    "body_text": "Thanks {{1}}, we received your payment of {{2}} for order {{3}}.",
    "examples": ["Ana", "$24.90", "8812"],
}


def register(app: typer.Typer) -> None:
    command(app, "demo", shared=("json",))(demo)


def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the demo's home (printed at the end) to look around.")
    ] = False,
) -> None:
    """Run the whole loop locally: sandbox, webhook receiver, account, templates, messages, receipts.

    Starts `waba sandbox serve` and `waba serve-webhook` on free loopback ports, sets up a demo
    account from a setup file (verified against the sandbox), syncs and submits templates, lets a
    customer write, replies with a text, a template and an interactive message, and waits until
    the receipts say `read`; then shows the analytics report and health check where this build has
    them. Each command is printed in full before its output (`$ waba ...`), ready to copy. Uses a
    temporary home unless --keep; exit 1 if any step fails. With --json, stdout holds one JSON
    document (`{ok, steps_passed, steps_total, seconds, home, steps: [{number, title, commands:
    [{command, exit_code}], ok, outcome, error, seconds}]}`) and the narration goes to stderr.

    \b
    Example:
        waba demo
        waba demo --keep
        waba demo --json | jq '.steps[] | {title, ok}'
    """
    import json
    import sys
    import tempfile

    from waba_cli.errors import OperationError

    json_mode = out().json_mode  # read before the demo's own commands reset the run's options
    narrate = say_on_stderr if json_mode else say
    home = Path(tempfile.mkdtemp(prefix="waba-demo-"))
    run = DemoRun(home, narrate)
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    succeeded = False
    try:
        with environment(run.env):
            run.all_steps()
        succeeded = True
    except OperationError as exc:
        run.show_logs()
        raise OperationError(f"demo failed at step {run.number}/{run.total} ({run.title}): {exc.message}") from None
    finally:
        run.stop_servers()
        signal.signal(signal.SIGTERM, previous_term)
        if keep:
            narrate(f"The demo's home is kept: {home}")
            narrate(f"  WABA_HOME={home} waba message list")
            narrate(f"  waba sandbox serve --state {home / 'sandbox.json'}   (the sandbox's world, to go on)")
        else:
            import shutil

            shutil.rmtree(home, ignore_errors=True)
        if json_mode and run.records:
            sys.stdout.write(json.dumps(run.report(ok=succeeded, kept=home if keep else None), indent=2) + "\n")
            sys.stdout.flush()
    if succeeded:
        narrate(f"Demo finished in {time.monotonic() - run.started:.1f} s: every step passed.")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _wizard_answers(webhook_url: str) -> list[Any]:
    """What the demo's operator answers the setup wizard: discovery instead of ids, Enter for defaults."""
    from waba_cli.cli.demo_wizard import Answer, row_of, typed
    from waba_cli.sandbox import fixtures

    return [
        Answer(r"name:", typed("sandbox")),
        Answer(r"waba_id:", typed("")),
        Answer(r"access_token:", typed(fixtures.ACCESS_TOKEN), secret=True),
        Answer(r"WABA \(1-", typed("")),
        Answer(r"meta_business_account_id", typed("")),
        Answer(r"app_id \[", typed("")),
        Answer(r"app_secret:", typed(fixtures.APP_SECRET), secret=True),
        Answer(r"number \(1-", row_of(fixtures.DISPLAY_PHONE_NUMBER)),
        Answer(r"phone_number \[", typed("")),
        Answer(r"display_phone_number", typed("")),
        Answer(r"webhook_verify_token", typed(fixtures.VERIFY_TOKEN), secret=True),
        Answer(r"business_name", typed(fixtures.BUSINESS_NAME)),
        Answer(r"business_description", typed("The shop behind waba's sandbox.")),
        Answer(r"business_email", typed("hello@shop.example.com")),
        Answer(r"business_vertical", typed("retail")),
        Answer(r"business_address", typed("")),
        Answer(r"Push this business profile", typed("y")),
        Answer(r"enable_auto_reply", typed("")),
        Answer(r"use_knowledge_base", typed("")),
        Answer(r"enable_business_hours", typed("")),
        Answer(r"business_timezone", typed("")),
        Answer(r"webhook_url", typed(webhook_url)),
        Answer(r"subscribed_webhook_events", typed("messages, message_template_status_update, flows")),
        Answer(r"Save this account", typed("y")),
        Answer(r"round trip", typed("n")),  # the demo's own next steps are the round trip
    ]


class DemoRun(DemoRunner):
    """The demo's steps, each a method returning its outcome in one line."""

    def __init__(self, home: Path, narrate: Callable[[str], None] = say) -> None:
        self.sandbox_url = ""
        self.webhook_url = ""
        self.sent: list[str] = []
        self.onboarding: list[str] = []  # numbers the doctor says cannot send yet
        super().__init__(home, narrate)

    def plan(self) -> list[tuple[str, Callable[[], str]]]:
        steps: list[tuple[str, Callable[[], str]]] = [
            ("Start the sandbox Graph API", self.start_sandbox),
            ("Create a fresh waba home (waba init)", self.init),
            ("Set up the demo account with the wizard, on a terminal (waba account setup)", self.setup_account),
            ("Start the webhook receiver (waba serve-webhook)", self.start_webhook_receiver),
        ]
        if {("number", "list"), ("number", "doctor")} <= self.commands:
            steps += [
                ("Read every number of the WABA (waba number list --sync)", self.list_numbers),
                ("Ask why a number cannot send (waba number doctor)", self.number_doctor),
            ]
        if ("template", "sync") in self.commands:
            steps.append(("Sync the WABA's templates (waba template sync)", self.sync_templates))
        if {("template", "create"), ("template", "submit"), ("template", "show")} <= self.commands:
            steps.append(("Submit a new template for review (waba template create, submit)", self.submit_template))
        steps += [
            ("A customer writes (waba sandbox inbound --text)", self.customer_writes),
            ("Reply with a text, a template and buttons (waba send ...)", self.reply),
            ("The customer taps a button (waba sandbox inbound --button)", self.customer_taps),
        ]
        if {("flow", "create"), ("flow", "responses")} <= self.commands:
            steps.append(("A WhatsApp Flow: create, publish, send, completed (waba flow ..., send flow)", self.flow))
        steps.append(("Wait for the receipts: sent, delivered, read (waba message list)", self.wait_for_read))
        if ("events", "list") in self.commands:
            steps.append(("What the webhook receiver stored (waba events list)", self.events))
        if ("usage",) in self.commands:
            steps.append(("Messages against the account's limits (waba usage)", self.usage))
        if ("analytics", "report") in self.commands:
            steps.append(("Analytics report (waba analytics report)", self.analytics))
        if ("health", "check") in self.commands:
            steps.append(("Health check (waba health check)", self.health))
        return steps

    # -- the steps -------------------------------------------------------------------------------

    def start_sandbox(self) -> str:
        port = free_port()
        state = str(self.home / "sandbox.json")
        self.spawn(
            "sandbox",
            *("sandbox", "serve", "--port", str(port), "--state", state),
            *("--status-delay", "0.1", "--review-delay", "0.5"),
        )
        self.sandbox_url = f"http://127.0.0.1:{port}"
        self.env["WABA_GRAPH_BASE_URL"] = os.environ["WABA_GRAPH_BASE_URL"] = self.sandbox_url
        # it starts while the home is created; the account setup waits for it
        return f"a local Graph API at {self.sandbox_url}, with a seeded WABA, four numbers and seven templates"

    def wait_for_sandbox(self) -> None:
        from waba_cli.sandbox import client

        self.wait_for(
            "the sandbox start", lambda: client.wait_until_up(f"{self.sandbox_url}/_sandbox/sent", timeout=0.5)
        )

    def init(self) -> str:
        self.waba("init")
        return f"config, database and key file in {self.home}"

    def setup_account(self) -> str:
        from waba_cli.cli.demo_wizard import run_wizard
        from waba_cli.errors import OperationError

        port = free_port()
        self.webhook_url = f"http://127.0.0.1:{port}/webhook"
        self.wait_for_sandbox()
        self.show_command(("account", "setup"), None)
        code = run_wizard(["account", "setup"], self.env, _wizard_answers(self.webhook_url), self.narrate)
        self.show_command(("account", "setup"), code)
        if code == 130:
            raise KeyboardInterrupt
        if code != 0:
            raise OperationError(f"the setup wizard exited {code}")
        account = self.waba_json("account", "show")
        number = account["phone_numbers"][0]["phone_number"]
        return (
            f"account {account['name']}: WABA {account['waba_id']} and number {number} picked from what the "
            "token reaches, checked live; secrets stored encrypted"
        )

    def start_webhook_receiver(self) -> str:
        from waba_cli.sandbox import client

        port = self.webhook_url.rsplit(":", 1)[1].split("/")[0]
        self.spawn("serve-webhook", "serve-webhook", "--host", "127.0.0.1", "--port", port, "--path", "/webhook")
        health = self.webhook_url.replace("/webhook", "/healthz")
        self.wait_for("serve-webhook to answer", lambda: client.wait_until_up(health, timeout=0.5))
        # the sandbox learns the callback the way Meta does: the app's subscription, verified by a GET
        answer = client.subscribe_callback(self.sandbox_url, self.webhook_url)
        if answer.get("success") is not True:
            from waba_cli.errors import OperationError

            raise OperationError(f"the sandbox could not verify the callback: {answer.get('error', answer)}")
        return f"serve-webhook at {self.webhook_url}, verified by the sandbox and subscribed as the app's callback"

    def list_numbers(self) -> str:
        numbers = self.waba_json("number", "list", "--sync")
        for number in numbers:
            mark = "*" if number["default"] else " "
            self.narrate(
                f"      {mark} {number['display_phone_number']}  {number['verified_name']}  "
                f"{number['status']}  quality {number['quality_rating']}  {number['messaging_limit']}"
            )
        return f"{len(numbers)} numbers stored; * sends by default, every one can be chosen with --from"

    def number_doctor(self) -> str:
        report = self.waba_json("number", "doctor", accept=(0, 1))
        for number in report["numbers"]:
            self.narrate(f"      {number['verdict']:8} {number['display_phone_number']}")
            for reason in number["reasons"]:
                if reason["severity"] != "info":
                    self.narrate(
                        f"               {reason['message']}" + (f" -> {reason['next']}" if reason["next"] else "")
                    )
        ready = sum(1 for n in report["numbers"] if n["can_send"])
        self.onboarding = [n["phone_number"] for n in report["numbers"] if not n["can_send"]]
        return f"{ready} of {len(report['numbers'])} numbers can send; the others say why and what to run next"

    def sync_templates(self) -> str:
        self.waba("template", "sync")
        templates = self.waba_json("template", "list")
        approved = [t for t in templates if t.get("status") == "APPROVED"]
        return f"{len(templates)} templates stored locally, {len(approved)} approved"

    def submit_template(self) -> str:
        import json

        draft = self.home / "payment_received.json"
        private.write_private(draft, json.dumps(DEMO_TEMPLATE))
        self.waba("template", "create", "--from-file", str(draft))
        self.waba("template", "submit", DEMO_TEMPLATE_NAME, "--language", "en_US")
        status: dict[str, Any] = {}

        def decided() -> bool:
            status.update(self.waba_json("template", "show", DEMO_TEMPLATE_NAME, "--language", "en_US"))
            return status.get("status") not in (None, "DRAFT", "PENDING")

        self.wait_for("the review webhook", decided, timeout=15)
        if status.get("status") != "APPROVED":
            from waba_cli.errors import OperationError

            raise OperationError(f"the template came back {status.get('status')}, not APPROVED")
        return "submitted PENDING; the sandbox approved it and the webhook set it APPROVED"

    def customer_writes(self) -> str:
        answer = self.waba_json(
            "sandbox",
            "inbound",
            "--to",
            "+15550134567",
            "--from",
            CUSTOMER,
            "--name",
            "Ana Souza",
            "--text",
            "Hi! Has my order 8812 shipped?",
            "--sandbox-url",
            self.sandbox_url,
        )
        status = answer["status"]
        return f"Ana ({CUSTOMER}) wrote; serve-webhook stored it (HTTP {status}): her 24-hour window is open"

    def reply(self) -> str:
        text = self.waba_json("send", "text", "--to", CUSTOMER, "--body", "Yes! It left our warehouse this morning.")
        template = self.waba_json(
            "send",
            "template",
            "order_update",
            "--to",
            CUSTOMER,
            "--param",
            "Ana",
            "--param",
            "8812",
            "--param",
            "Friday",
            "--button-url-suffix",
            "8812",
        )
        buttons = self.waba_json(
            "send",
            "interactive",
            "--to",
            CUSTOMER,
            "--body",
            "Shall we leave it with a neighbour if you are out?",
            "--button",
            "neighbour:Yes, please",
            "--button",
            "keep:No, keep it",
        )
        self.sent = [text["wamid"], template["wamid"], buttons["wamid"]]
        return "the Graph API accepted a text, the template order_update and a message with 2 reply buttons"

    def customer_taps(self) -> str:
        answer = self.waba_json(
            "sandbox",
            "inbound",
            "--to",
            "+15550134567",
            "--from",
            CUSTOMER,
            "--button",
            "neighbour",
            "--sandbox-url",
            self.sandbox_url,
        )
        return f"a button reply quoting the interactive message, stored (HTTP {answer['status']})"

    def flow(self) -> str:
        """Create and publish a booking flow, send it to Ana, let her complete it, read the answers."""
        import json

        from waba_cli.sandbox import fixtures

        path = self.home / "booking.json"
        private.write_private(path, json.dumps(fixtures.APPOINTMENT_FLOW_JSON, indent=2))
        self.waba(
            "flow", "create", "demo_booking", "--json", str(path), "--category", "APPOINTMENT_BOOKING", "--publish"
        )
        sent = self.waba_json(
            "send", "flow", "demo_booking", "--to", CUSTOMER, "--cta", "Book now", "--body", "When suits you?"
        )
        self.sent.append(sent["wamid"])
        answers = {"appointment_date": "2026-12-24", "time_slot": "10:30"}
        self.waba_json(
            "sandbox",
            "inbound",
            "--to",
            "+15550134567",
            "--from",
            CUSTOMER,
            "--flow-reply",
            json.dumps(answers),
            "--sandbox-url",
            self.sandbox_url,
        )
        self.wait_for(
            "the completion to be stored", lambda: bool(self.waba_json("flow", "responses", "demo_booking")), timeout=20
        )
        _code, table = self.waba("flow", "responses", "demo_booking")
        for line in table.splitlines():
            self.narrate(f"      {line}")
        return f"flow demo_booking published, sent with token {sent['flow_token']}, completed: one row per answer"

    def wait_for_read(self) -> str:
        from waba_cli.errors import OperationError

        messages: list[dict[str, Any]] = []

        def all_read() -> bool:
            messages[:] = self.waba_json("message", "list", "--limit", "20")
            statuses = {m["wamid"]: m["status"] for m in messages}
            return all(statuses.get(w) == "read" for w in self.sent)

        try:
            self.wait_for("every reply to be read", all_read, timeout=20)
        except OperationError:
            shown = ", ".join(m["status"] for m in messages if m["wamid"] in self.sent)
            raise OperationError(f"the replies are {shown or 'not recorded'}, not all read") from None
        for message in sorted(messages, key=lambda m: int(m.get("id") or 0)):  # the order they were stored
            first_line = str(message.get("text") or f"({message['type']})").splitlines()[0]
            if message["direction"] == "in":
                self.narrate(f"      Ana  > {first_line}")
            else:
                self.narrate(f"      shop > {first_line}   [{message['status']}]")
        return "every reply went sent -> delivered -> read, by status webhooks that serve-webhook applied"

    def events(self) -> str:
        events = self.waba_json("events", "list", "--limit", "200")
        fields: dict[str, int] = {}
        for event in events:
            fields[event["field"]] = fields.get(event["field"], 0) + 1
        failed = sum(1 for event in events if event.get("status") == "failed")
        if failed:
            from waba_cli.errors import OperationError

            raise OperationError(f"{failed} stored webhook event(s) failed to apply")
        shown = ", ".join(f"{count} {field}" for field, count in sorted(fields.items()))
        return f"{len(events)} signed deliveries stored and applied: {shown}"

    def usage(self) -> str:
        usage = self.waba_json("usage")
        return f"{usage['today']} outbound messages today, {usage['month']} this month (no limits set)"

    def analytics(self) -> str:
        report = self.waba_json("analytics", "report", "--since", "1d")
        totals = report.get("totals", {})
        return (
            f"sent {totals.get('sent')}, delivered {totals.get('delivered')}, read {totals.get('read')}, "
            f"inbound {totals.get('inbound')}; read rate {report.get('read_rate')}"
        )

    def health(self) -> str:
        """`waba health check` as cron would run it; numbers the doctor found still onboarding are
        left out through health.ignore_numbers, as an operator would do."""
        import json

        from waba_cli.errors import OperationError

        if self.onboarding:
            with (self.home / "config.toml").open("a", encoding="utf-8") as config:
                config.write(f"\n[health]\nignore_numbers = {json.dumps(self.onboarding)}\n")
            self.narrate(f"      health.ignore_numbers = {json.dumps(self.onboarding)} (still being onboarded)")
        code, text = self.waba("health", "check", accept=(0, 1, 2, 3))
        lines = text.splitlines()
        self.narrate(f"      {lines[0]}")
        for line in lines[1:]:
            cells = line.split("\t")
            if len(cells) == 4 and cells[2] not in ("OK", "STATUS"):
                self.narrate(f"      {cells[2]:8} {cells[1]}: {cells[3]}")
        status = lines[0].split()[1] if lines and len(lines[0].split()) > 1 else "?"
        if status not in ("OK", "WARNING"):
            raise OperationError(f"health check says {status}")
        return f"exit {code} ({status}), the Nagios code a monitor reads; `waba health history` keeps the changes"
