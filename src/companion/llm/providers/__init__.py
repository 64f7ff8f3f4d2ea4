"""Provider adapters: each maps its vendor errors to companion.errors at this boundary."""
