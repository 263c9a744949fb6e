"""Local stand-ins for the chat platforms' web APIs: they record what Baton sends and answer like the real thing."""
