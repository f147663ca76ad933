"""Sending one message (`waba send ...`, auto-replies): the rules before it and a record that is never lost.

``send`` holds the whole path for now: who sends to whom, the rules (the 24-hour window, the
account's limits, contacts that stopped messages), composing the request body with
``waba_cli.domain.payloads``, and recording the send around the Graph call. Import from the module
that holds the thing.
"""
