"""Microsoft Teams: botbuilder's CloudAdapter on ``POST /api/messages``, Adaptive Cards, proactive delivery.

Every botbuilder import in Baton lives in this package, so the SDK can be swapped for its
successor (the Microsoft 365 Agents SDK, same Activity protocol) in one place.
"""
