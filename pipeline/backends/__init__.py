"""Pluggable backends (search index, ...) behind small protocols."""
