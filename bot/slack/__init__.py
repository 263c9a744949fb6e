"""Slack: slack-bolt's AsyncApp on Baton's aiohttp server (or Socket Mode), rendering and delivery.

One concept per module: ``app`` builds the bolt app, ``component`` plugs it into the
runtime, ``render``/``blocks`` turn view-models into Block Kit, ``sender`` delivers the
outbox, and ``actions``/``modals``/``commands``/``events``/``home`` are the thin listeners.
"""
