"""Leads in: parse, score, qualify, route and store a batch; resend safety."""
