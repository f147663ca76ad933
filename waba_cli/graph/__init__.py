"""The Graph API: the only package that speaks HTTP to Meta.

``client`` holds the one HTTP client (auth, retries, dry run, call log), ``api`` one method per
endpoint, ``errors`` Meta's error codes as exception classes. Import from the modules themselves:
``client`` and ``api`` load httpx (and tenacity once a call is retried), which read-only commands
must not pay for.
"""
