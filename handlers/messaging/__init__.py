"""Messages out: the outbox, the delivery worker (claim, pacing, scopes, settle, alerts), the port to
chat platforms, audit events and CRM webhooks, once-per-period claims."""
