"""The Graph API's resources, one module each, behind ``core.ROUTES`` (node kind, edge, method).

An endpoint is ``async def name(sandbox: Runtime, call: Call) -> answer``: it reads ``call`` (the
authenticated request about one object), judges it with ``rules/``, changes ``sandbox.state`` and
schedules what Meta does later (statuses, reviews, webhooks) with ``sandbox.later`` and
``sandbox.emit_management``. Endpoints never import ``core``: the dispatcher imports them.
"""
