"""WhatsApp Flows: the lifecycle at Meta, the tokens sent, the answers collected.

``lifecycle`` creates, uploads, publishes, deprecates and deletes flows (the Flow JSON checked by
``domain.flow_json`` first); ``catalogue`` syncs, lists and shows them; ``metrics`` reads an endpoint
flow's health figures; ``tokens`` records every ``flow_token`` sent and ties completions back to
it (the webhook calls it); ``responses`` turns completions into a table. ``store`` finds a flow by
name or id.
"""
