"""One module per feature; each adds its handlers in ``register(bot, application)``."""
