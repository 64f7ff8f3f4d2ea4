"""personality domain."""
