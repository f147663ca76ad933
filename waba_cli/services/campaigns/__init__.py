"""Campaigns (``waba send bulk``): one template or text to every row of a CSV file, paced, concurrent and resumable.

A run, in order:

1. **Check** what does not depend on the rows: account, sending number, template (sendable) or
   body, the CSV's columns against the template's variables. Any problem is exit 2, nothing written.
2. **Scan** the CSV as a stream: each row's number normalised to E.164, its parameters checked,
   duplicates found. Valid rows go to a scratch SQLite file (integer E.164 digits as the unique
   key), so a 1,000,000-row file costs disk, not memory, and no Python string is kept per row.
   ``--dry-run`` stops here and reports the plan.
3. **Import** the scratch rows as the campaign's recipients (one transaction; rows already there
   from an earlier run keep their state), after the account's daily and monthly limits are checked.
4. **Reconcile**: recipients left ``sending`` by a run that died are ``in_doubt`` (Meta's send is
   not idempotent); each is tied back to its wamid when a status webhook carrying its
   ``biz_opaque_callback_data`` has arrived. ``--resend-in-doubt`` hands the rest back for sending.
   Recipients to send whose contact's last failure was 131050 or 131026 become the plan's warnings
   (sent to all the same; ``--dry-run`` finds them from the scan).
5. **Send**: ``concurrency`` requests in flight, paced by the number's token bucket; answers are
   recorded and recipients claimed in batches, so a crash leaves at most ``concurrency`` of them
   in doubt (``runner``).

``plan`` holds what a run is asked and reports (no I/O); ``content`` what its message says;
``csv_scan`` reads the CSV into a scratch file; ``store`` reads and writes the campaign's rows;
``prepare`` checks a request, scans its CSV and makes the plan; ``runner`` sends it.
"""
