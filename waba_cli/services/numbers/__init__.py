"""Phone numbers as first-class objects (`waba number ...`).

A WABA has several numbers and `account setup` records one. ``sync`` reads every number of the WABA
(all pages first, then one transaction: a sync that fails half way changes nothing), records each
change of quality, status, messaging limit or display-name status in the health log, and marks
numbers Meta no longer lists as gone instead of deleting them. After a sync every number sends
with ``--from`` and campaigns pace each at its own throughput.

``store`` finds NUM and writes what Meta says; ``sync`` keeps the list (sync, list, show, use,
add); ``registration`` verifies ownership, registers, deregisters and keeps the two-step PIN;
``profile`` edits the business profile; ``doctor`` says why a number cannot send.
"""
