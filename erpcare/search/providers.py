"""The ticket search provider (filled in by the search work of issue 4)."""
