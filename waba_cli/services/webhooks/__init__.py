"""Webhook intake (reference §8): Meta's deliveries checked, stored and applied once.

``apply`` holds the intake as a whole for now. Nothing is imported here: serve-webhook's HTTP
process imports the intake's light half alone, without the database stack.
"""
