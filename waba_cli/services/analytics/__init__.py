"""`waba analytics`: delivery, engagement and cost figures from the local store.

``rollup`` keeps each account's daily figures up to date (recounting only the days that changed),
``report`` reads them for `analytics report`, ``dashboard`` for `analytics dashboard`, ``rates``
reads rate cards. What is counted and how is ``domain.analytics``.
"""
