"""The article search provider (filled in by the knowledge-base work of issue 4)."""
