"""Webhook intake (reference §8): Meta's deliveries checked, stored and applied once.

``parse`` reads a delivery (signature, JSON) and is all that serve-webhook's HTTP process imports;
``apply`` stores and applies deliveries. Nothing is imported here, so that importing ``parse``
brings in no database stack.
"""
