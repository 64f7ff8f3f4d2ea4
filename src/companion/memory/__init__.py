"""memory domain."""
