"""Use cases: what the Chalice handlers and pipeline tasks call."""
