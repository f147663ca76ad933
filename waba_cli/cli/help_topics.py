"""`waba help environment | exit-codes`: what waba reads from the environment, and what its exit codes mean."""

from waba_cli.cli.common import command, group, out

app = group(
    "help",
    "Reference topics: the environment variables waba reads, and its exit codes.",
    examples=("waba help environment", "waba help exit-codes --json"),
)

# name, meaning, default. tests/unit/cli/test_help_topics.py checks that every WABA_*/WHATSAPP_* name in
# the code is here.
ENVIRONMENT: tuple[tuple[str, str, str], ...] = (
    ("WABA_HOME", "data directory: the SQLite database, the key file, the demo's files", "<user data dir>/waba"),
    ("WABA_CONFIG", "config file (TOML); --config PATH wins", "$WABA_HOME/config.toml, else <user config dir>/waba"),
    (
        "WABA_DATABASE_URL",
        "database, any SQLAlchemy URL (PostgreSQL too); wins over database.url",
        "$WABA_HOME/waba.db",
    ),
    (
        "WABA_ENCRYPTION_KEY",
        "the key that encrypts stored tokens and secrets: a Fernet key or a secret of 32+ characters",
        "the OS keyring, else the key file",
    ),
    ("WHATSAPP_ENCRYPTION_KEY", "the same as WABA_ENCRYPTION_KEY (accepted for older setups)", "unset"),
    (
        "WABA_ACCOUNT",
        "the account commands act on (name or WABA id); --account/-a wins",
        "`waba account use`, else the only one",
    ),
    (
        "WABA_GRAPH_BASE_URL",
        "the Graph API's address (the sandbox's, for example); wins over graph.base_url",
        "https://graph.facebook.com",
    ),
    ("WABA_GRAPH_API_VERSION", "the Graph API version; wins over graph.api_version", "v23.0"),
    (
        "WABA_GRAPH_DEADLINE",
        "seconds a Graph call may take, retries included, before waba gives up; wins over graph.deadline_seconds",
        "15",
    ),
    ("WABA_MAX_FILE_MB", "the largest file waba reads (setup, templates, flows, CSV lines), in MiB", "10"),
    (
        "WABA_WEBHOOK_BASE_URL",
        "the public webhook URL printed for Meta's dashboard; wins over webhook.public_base_url",
        "unset",
    ),
    ("WHATSAPP_WEBHOOK_BASE_URL", "the same as WABA_WEBHOOK_BASE_URL (accepted for older setups)", "unset"),
    ("WABA_DEBUG", "1: tracebacks and debug logs, as --debug", "unset (off)"),
    ("NO_COLOR", "set: no colour in the output", "unset (colour on a terminal)"),
    (
        "NOTIFY_SOCKET",
        "serve-webhook tells systemd READY=1 on this socket once it accepts connections",
        "set by systemd",
    ),
    ("SHELL", "`waba --install-completion` falls back on it to tell the shell", "set by the login"),
    ("PYTHON_KEYRING_BACKEND", "the keyring backend that holds the encryption key", "the OS keyring"),
)

# each: where it applies, the code, what it means
EXIT_CODES: tuple[tuple[str, int, str], ...] = (
    ("every command", 0, "success"),
    ("every command", 1, "the operation failed: Graph API error, network, run time; or a confirmation declined"),
    ("every command", 2, "bad usage or invalid input: nothing was sent or changed"),
    ("every command", 130, "interrupted (Ctrl-C)"),
    ("health check", 0, "OK"),
    ("health check", 1, "WARNING"),
    ("health check", 2, "CRITICAL"),
    ("health check", 3, "UNKNOWN: a check could not run (never 2 for bad arguments: they are UNKNOWN too)"),
    ("send bulk", 0, "the campaign ran to the end (some recipients may have failed: see its JSON or campaign show)"),
    ("send bulk", 1, "the campaign stopped early (for example Meta's 131048 spam rate limit)"),
    ("send bulk", 2, "invalid input: nothing was sent"),
    ("template apply", 0, "applied (with --detailed-exitcode: nothing to do)"),
    ("template apply", 1, "a change failed or was refused"),
    ("template apply --detailed-exitcode", 2, "changes are planned (with --dry-run: drift found, for CI checks)"),
    ("serve-webhook, sandbox serve", 0, "stopped by SIGTERM or SIGINT after a graceful shutdown"),
)


@command(app, "environment", shared=("json",))
def environment() -> None:
    """Every environment variable waba reads, with its meaning and default.

    Precedence: flag > environment > config file > default.

    \b
    Example:
        waba help environment
    """
    o = out()
    if o.json_mode:
        o.json([{"name": name, "meaning": meaning, "default": default} for name, meaning, default in ENVIRONMENT])
        return
    o.table(["variable", "meaning", "default"], ENVIRONMENT)


@command(app, "exit-codes", shared=("json",))
def exit_codes() -> None:
    """Exit codes: waba's, and those of commands with their own.

    \b
    Example:
        waba help exit-codes
    """
    o = out()
    if o.json_mode:
        o.json([{"command": where, "code": code, "meaning": meaning} for where, code, meaning in EXIT_CODES])
        return
    o.table(["command", "code", "meaning"], EXIT_CODES)
