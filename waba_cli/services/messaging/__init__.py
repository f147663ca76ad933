"""Sending one message (`waba send ...`, auto-replies): the rules before it and a record that is never lost.

``send`` has one function per `waba send` command and records each send around the Graph call
(``deliver``, which auto-replies use too); ``rules`` says what may be sent (who sends to whom,
the 24-hour window, the account's limits, contacts that stopped messages, sendable templates);
``drafts`` turns a command's options into the request body, built by ``waba_cli.domain.payloads``.
Reading messages back is ``waba_cli.services.messages``. Import from the module that holds the thing.
"""
