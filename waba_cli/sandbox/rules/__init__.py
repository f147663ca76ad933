"""How the sandbox judges requests, one module per Graph resource: sends, template sends,
templates (creation and review), Flow JSON, business profiles, phone numbers, throughput and
pricing.

Error codes follow the reference (§1.5, §1.6) and are chosen like this for sends:
a required parameter that is missing is 131008, a value of the wrong kind or enum is 100, a value
of the right kind that Meta would not accept (too long, too many buttons, unknown media) is
131009; templates: not found / not approved in that language 132001, paused 132015, disabled
132016, wrong parameter count 132000, wrong parameter kind 132012, filled text too long 132005.

Rules read the state and raise ``errors.GraphFailure``; they never answer requests themselves
(that is ``endpoints/``), so the state never needs them.
"""
