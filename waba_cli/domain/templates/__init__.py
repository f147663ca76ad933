"""Message templates as rules: Meta's rules (``rules``), the forms a template is written in
(``forms``), filling one in as the customer sees it (``render``) and comparing two copies
(``compare``). Pure functions over plain data; the stored rows and the calls to Meta are in
``waba_cli.services.templates``.
"""
