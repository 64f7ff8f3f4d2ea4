"""Measurement harnesses behind ``companion bench`` (one module per area)."""
