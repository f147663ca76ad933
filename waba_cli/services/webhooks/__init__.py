"""Webhook intake (reference §8): Meta's deliveries checked, stored and applied once.

The path of one delivery, as ``webhook/server.py`` and ``webhook/writer.py`` drive it:

1. ``parse``: ``Keys.verify`` checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw bytes) against
   the app secret of every configured account, in constant time per secret, and ``parse_body``
   reads the JSON. The HTTP process imports nothing else of the package (nothing is imported
   here), so it loads no database stack.
2. ``store``: deliveries are group-committed: ``commit_batch`` stores the raw bodies and headers of
   a whole batch (``webhook_event``) and applies everything they carry in the same transaction,
   with SQLAlchemy Core statements per batch rather than ORM round trips per item. The 200 goes
   out only after that commit. If applying the batch fails, the raw events are stored on their
   own (still before the 200) and applied one by one afterwards; one that fails is marked
   ``failed`` with its error for ``waba events replay``.
3. ``apply``: idempotency lives in the database, so repeated deliveries and several instances on
   one PostgreSQL database never double-apply:

   - inbound messages: ``message.wamid`` is unique (INSERT ... ON CONFLICT DO NOTHING);
   - statuses: ``message_status(wamid, status)`` is unique; ``message.status`` only moves forward
     (``domain.statuses``; ``db.messages`` applies it in a conditional UPDATE evaluated against
     the row as it is when the lock is taken): ``failed`` replaces accepted/sent, a later
     delivered/read wins over failed (multi-device; the failure stays in the history), and a late
     ``sent`` changes nothing;
   - business events without a natural key (template, phone-number, account, flow changes, async
     errors): ``webhook_item.key`` = sha256 of entry id, time, field and value;
   - auto-replies: ``auto_reply.inbound_wamid`` is unique.

Nothing here raises on what Meta (or anyone holding an app secret) sends: unknown fields are kept
as events, unknown values stored as they came, malformed parts skipped and counted. What the
``waba events`` commands do with the stored events afterwards is ``services.events``.
"""
