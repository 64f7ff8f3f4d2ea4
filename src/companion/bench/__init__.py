"""Benchmark and measurement code behind ``companion bench`` (one module per area)."""
