"""Sending one message (`waba send ...`, auto-replies): the rules before it and a record that is never lost.

``rules`` says what may be sent (who sends to whom, the 24-hour window, the account's limits,
contacts that stopped messages, sendable templates); ``drafts`` turns a command's options into
the request body, built by ``waba_cli.domain.payloads``; ``send`` records the send around the
Graph call. Import from the module that holds the thing.
"""
