"""The product's rules with no I/O: what waba decides, apart from how it reads and writes.

A leaf: nothing here imports the database, the Graph client, the services or any framework, so
every layer above (and the sandbox's agreement tests) can ask the same rule the same question.
"""
