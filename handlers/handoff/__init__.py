"""The handoff itself: offer a lead, who may take it, accept, reject, reassign, touch, out of office,
the card."""
