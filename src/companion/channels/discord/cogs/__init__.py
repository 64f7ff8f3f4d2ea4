"""One cog per feature; each module ends with ``async def setup(bot)``."""
