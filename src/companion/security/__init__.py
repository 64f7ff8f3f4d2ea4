"""security domain."""
