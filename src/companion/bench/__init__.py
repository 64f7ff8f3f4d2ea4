"""Benchmarks and measurements: one module per area, the CLI commands are thin wrappers."""
