"""`waba health`: cron-ready checks of every account, with Nagios exit codes, history and alerts.

The second user of waba is cron: a monitor runs `waba health check` every few minutes, reads one
line and an exit code, and wants to hear only of changes. ``check`` runs the named checks of each
account concurrently (the decisions are ``domain.health``'s; numbers are read and stored as `number
sync` does and judged by the number doctor's findings), stores the run and says what changed;
``answers`` asks Meta with a short timeout and keeps the answers for ``--max-age`` (Meta's budget is
about 200 management calls per hour); ``facts`` reads what serve-webhook and sending stored;
``store`` keeps runs and results and turns them into history; ``notify`` tells a URL of changes;
``canary`` sends a real message and waits for its ``delivered`` status.
"""
