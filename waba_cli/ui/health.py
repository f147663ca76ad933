"""`health check`'s outputs for monitors: the Nagios plugin format and the Prometheus exposition.

Nagios (and Icinga, and every tool that runs its plugins) reads the first line, ``WABA WARNING -
...``, with performance data after ``|``, then the long output; Prometheus' node_exporter reads a
textfile in the exposition format, which ``prometheus_client`` writes (and its parser reads back in
the tests). A textfile is replaced atomically (written beside it, then renamed), mode 0600, so the
collector never reads half a file. Every text Meta or a customer wrote is printed escaped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from waba_cli.domain.text import printable

if TYPE_CHECKING:
    from waba_cli.domain.health import Check
    from waba_cli.services.health.check import HealthReport

STATUS_VALUES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
# measures where less is worse: their Nagios thresholds are ranges "N:" (alert below N)
_LOWER_IS_WORSE = frozenset({"token"})


def nagios(report: HealthReport) -> str:
    """The plugin output: status line with perfdata, then one line per check (problems first)."""
    checks = [(account.account, check) for account in report.accounts for check in account.checks]
    counts = {status: sum(1 for _, c in checks if c.status == status) for status in STATUS_VALUES}
    perf = [f"checks={len(checks)};;;0", *(f"{status.lower()}={n};;;0" for status, n in counts.items())]
    perf += [_perfdata(account, check) for account, check in checks if check.value is not None]
    lines = [f"{printable(report.line)} | {' '.join(perf)}"]
    order = {"CRITICAL": 0, "WARNING": 1, "UNKNOWN": 2, "OK": 3}
    for account, check in sorted(checks, key=lambda item: order.get(item[1].status, 2)):
        lines.append(f"{check.status} {account} {check.name}: {printable(check.detail)}{cached_note(check)}")
    return "\n".join(lines)


def _perfdata(account: str, check: Check) -> str:
    label = f"{account} {check.name}".replace("'", "''")
    unit = {"%": "%", "s": "s"}.get(check.unit, "")
    warn = "" if check.warn is None else f"{check.warn:g}"
    crit = "" if check.crit is None else f"{check.crit:g}"
    if check.name in _LOWER_IS_WORSE:
        warn, crit = (f"{warn}:" if warn else ""), (f"{crit}:" if crit else "")
    bounds = ";0;100" if unit == "%" else ""
    return f"'{label}'={check.value:g}{unit};{warn};{crit}{bounds}"


def cached_note(check: Check) -> str:
    """`` (cached 09:12:03 UTC)`` when the check reused a Graph answer, else nothing."""
    return f" (cached {check.cached_at:%H:%M:%S} UTC)" if check.cached_at is not None else ""


def prometheus(report: HealthReport) -> str:
    """Gauges per account and check (status 0-3, measure, cached), the overall status and the run's time."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    overall = Gauge("waba_health_status", "Overall status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", registry=registry)
    accounts = Gauge(
        "waba_health_account_status",
        "An account's status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        ["account"],
        registry=registry,
    )
    checks = Gauge(
        "waba_health_check_status",
        "A check's status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        ["account", "check"],
        registry=registry,
    )
    values = Gauge(
        "waba_health_check_value",
        "A check's measure (percent, days, seconds)",
        ["account", "check", "unit"],
        registry=registry,
    )
    cached = Gauge(
        "waba_health_check_cached",
        "1 when the check reused a Graph answer from an earlier run",
        ["account", "check"],
        registry=registry,
    )
    last_run = Gauge("waba_health_last_run_timestamp_seconds", "When the run started (unix time)", registry=registry)
    overall.set(STATUS_VALUES.get(report.status, 3))
    last_run.set(report.at.timestamp())
    for account in report.accounts:
        accounts.labels(account.account).set(STATUS_VALUES.get(account.status, 3))
        for check in account.checks:
            checks.labels(account.account, check.name).set(STATUS_VALUES.get(check.status, 3))
            cached.labels(account.account, check.name).set(1 if check.cached_at is not None else 0)
            if check.value is not None:
                values.labels(account.account, check.name, check.unit or "").set(check.value)
    return generate_latest(registry).decode()


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, readable by its owner only (0600)."""
    target = path.expanduser()
    directory = target.parent if str(target.parent) else Path()
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
