"""Erasure and retention of contact details."""
