"""Accounts: the WABAs waba acts for, from the first setup to the last removal.

``store`` finds, lists, chooses and removes accounts; ``setup`` reads a setup file or the wizard's
answers and saves an account in one transaction; ``checks`` asks Meta whether an account really
works (token, scopes, WABA, numbers, subscription); ``discovery`` lists what a token reaches so the
wizard offers choices; ``progress`` keeps an interrupted wizard's answers for ``--resume``;
``wizard`` does what the wizard offered once the operator confirmed.
"""
