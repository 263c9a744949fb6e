"""Follow-up: SLA chains, fenced timers, nudges and escalations, the touch cadence."""
