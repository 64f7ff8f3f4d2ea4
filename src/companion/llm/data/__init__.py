"""Data files shipped with companion.llm (tokenizer of all-MiniLM-L6-v2)."""
