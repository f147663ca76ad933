"""Cold-start benchmark: how long a fresh `waba` process takes, next to bare Python.

    python tests/benchmarks/cold_start.py [--runs N] [--strict]

Each command runs N times in a new process (interleaved round by round, after one untimed warm-up
run each, so the OS file cache is warm and "cold" means a new interpreter, not a cold disk), in a
temporary WABA_HOME set up with `waba init` and a fresh WABA_ENCRYPTION_KEY. waba runs both as
`python -m waba_cli ...` (the interpreter running this script) and through the `waba` console
script next to it. Prints best-of-N and median wall times, the two target ratios (judged on best
of N, the least noisy figure) and the 15 imports of `waba --help` with the largest cumulative time
from `python -X importtime` (and the same for `waba account list --json`).

Exit status: 0, or 2 if a command failed; with --strict, 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PY = sys.executable
REPO_ROOT = Path(__file__).resolve().parents[2]

# (label, argv after the interpreter or console script)
BASELINES: list[tuple[str, list[str]]] = [
    ("python -c pass", ["-c", "pass"]),
    ('python -c "import sqlmodel"', ["-c", "import sqlmodel"]),
]
WABA_COMMANDS: list[list[str]] = [
    ["--help"],
    ["account", "--help"],
    ["account", "list", "--json"],
    ["--version"],
]
# commands whose heaviest imports are listed after the table
IMPORTTIME_OF: list[list[str]] = [["--help"], ["account", "list", "--json"]]
# (what, baseline label, waba args, target ratio)
TARGETS: list[tuple[str, str, list[str], float]] = [
    ("waba --help vs python -c pass", "python -c pass", ["--help"], 10.0),
    (
        'waba account list --json vs python -c "import sqlmodel"',
        'python -c "import sqlmodel"',
        ["account", "list", "--json"],
        1.3,
    ),
]


@dataclass
class Case:
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def waba_label(args: Sequence[str], via: str) -> str:
    return f"waba {' '.join(args)}  [{via}]"


def find_console_script() -> Path | None:
    """The `waba` script installed beside this interpreter (same venv), else on PATH."""
    beside = Path(PY).parent / "waba"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("waba")
    return Path(found) if found else None


def make_env(home: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WABA_", "WHATSAPP_"))}
    env["WABA_HOME"] = str(home)
    env["WABA_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    env["NO_COLOR"] = "1"
    env.pop("PYTHONSTARTUP", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return time.perf_counter() - start, proc


def measure(cases: list[Case], runs: int, env: dict[str, str], cwd: Path) -> None:
    for case in cases:  # warm-up, and a check that the command works at all
        _, proc = run_once(case.argv, env, cwd)
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
            case.error = f"exit {proc.returncode}: {' | '.join(tail)}"
    for _ in range(runs):
        for case in cases:
            if case.error:
                continue
            elapsed, proc = run_once(case.argv, env, cwd)
            if proc.returncode != 0:
                case.error = f"exit {proc.returncode} on a timed run"
                continue
            case.times.append(elapsed)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def print_table(cases: list[Case]) -> None:
    width = max(len(c.label) for c in cases)
    print(f"{'command':<{width}}  {'best ms':>8}  {'median ms':>9}  {'x pass':>6}")
    print("-" * (width + 31))
    base = next((c for c in cases if c.label == "python -c pass" and c.times), None)
    for case in cases:
        if case.error or not case.times:
            print(f"{case.label:<{width}}  FAILED: {case.error}")
            continue
        factor = f"{case.best / base.best:6.1f}" if base else "     -"
        print(f"{case.label:<{width}}  {ms(case.best)}  {ms(case.median):>9}  {factor}")


def print_targets(by_label: dict[str, Case], vias: list[str]) -> bool:
    """Print each target ratio (best and median); True if every one that could be measured passes."""
    print()
    print("targets (verdict on best-of-N; median ratio for reference):")
    all_pass = True
    for what, base_label, args, target in TARGETS:
        base = by_label[base_label]
        for via in vias:
            case = by_label[waba_label(args, via)]
            if base.error or case.error or not base.times or not case.times:
                print(f"  {what}  [{via}]: not measured (a command failed)")
                all_pass = False
                continue
            ratio = case.best / base.best
            verdict = "PASS" if ratio < target else "SHORT"
            all_pass &= verdict == "PASS"
            median_ratio = case.median / base.median
            print(
                f"  {verdict:<5} {what}  [{via}]: {ratio:.2f}x best, {median_ratio:.2f}x median  (target < {target:g}x)"
            )
    return all_pass


def print_importtime(args: list[str], env: dict[str, str], cwd: Path, top: int = 15, repeat: int = 3) -> None:
    """The imports of `waba ARGS` with the largest cumulative time (minimum over a few runs)."""
    best: dict[str, tuple[int, int, int]] = {}  # module -> (cumulative us, self us, depth)
    for _ in range(repeat):
        proc = subprocess.run(
            [PY, "-X", "importtime", "-m", "waba_cli", *args],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"\n(`python -X importtime -m waba_cli {' '.join(args)}` failed: exit {proc.returncode})")
            return
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "[us]" in line:
                continue
            own, cumulative, name = line[len("import time:") :].split("|", 2)
            module = name.strip()
            depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
            entry = (int(cumulative), int(own), depth)
            if module not in best or entry[0] < best[module][0]:
                best[module] = entry
    print()
    print(
        f"top {top} cumulative imports of `waba {' '.join(args)}` (python -X importtime, "
        f"min of {repeat} runs; depth = nesting level when first imported, 0 = at top level or "
        "from a function at run time):"
    )
    print(f"  {'cumul ms':>8}  {'self ms':>7}  depth  module")
    for module, (cumulative_us, self_us, depth) in sorted(best.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"  {cumulative_us / 1000:8.1f}  {self_us / 1000:7.1f}  {depth:5d}  {module}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (default 10)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")

    script = find_console_script()
    print(f"python {platform.python_version()} at {PY}; {os.cpu_count()} CPUs; {options.runs} runs per command")
    print(f"console script: {script or 'not found (only python -m waba_cli is measured)'}")
    probe = subprocess.run(
        [PY, "-c", "import waba_cli; print(waba_cli.__file__)"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    where = probe.stdout.strip()
    if not where.startswith(str(REPO_ROOT)):
        print(f"note: this interpreter imports waba_cli from {where or '(nowhere)'}, not from {REPO_ROOT}")

    with tempfile.TemporaryDirectory(prefix="waba-cold-start-") as tmp:
        cwd = Path(tmp)
        home = cwd / "home"
        home.mkdir()
        env = make_env(home)
        init = subprocess.run(
            [PY, "-m", "waba_cli", "init"],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if init.returncode != 0:
            print(f"`waba init` failed (exit {init.returncode}):\n{init.stderr}", file=sys.stderr)
            return 2

        vias = ["python -m"] + (["console script"] if script else [])
        cases = [Case(label, [PY, *args]) for label, args in BASELINES]
        for args in WABA_COMMANDS:
            cases.append(Case(waba_label(args, "python -m"), [PY, "-m", "waba_cli", *args]))
            if script:
                cases.append(Case(waba_label(args, "console script"), [str(script), *args]))

        started = time.perf_counter()
        measure(cases, options.runs, env, cwd)
        print(f"measured in {time.perf_counter() - started:.1f} s\n")
        print_table(cases)
        all_pass = print_targets({c.label: c for c in cases}, vias)
        for args in IMPORTTIME_OF:
            print_importtime(args, env, cwd)

    if any(c.error for c in cases):
        return 2
    return 1 if options.strict and not all_pass else 0


if __name__ == "__main__":
    sys.exit(main())
