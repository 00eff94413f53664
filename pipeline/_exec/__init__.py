"""Thin wrappers over external programs that turn their raw failures into typed errors."""
