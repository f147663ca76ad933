"""A local stand-in for the Graph API that also sends signed webhooks (`waba sandbox`, `waba demo`, tests)."""
