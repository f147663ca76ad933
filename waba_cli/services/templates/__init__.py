"""Message templates: local drafts, submission, sync with Meta, apply, preview, and template webhooks.

The rules a template must follow are in ``waba_cli.domain.templates`` (pure, no I/O); these
modules store templates and talk to Meta through ``GraphAPI``: ``files`` (reading and checking
template files), ``store`` (rows, history, drafts, preview), ``submit``, ``delete``, ``sync``,
``apply`` and ``events`` (template webhooks). Import from the module that holds the thing.
"""
