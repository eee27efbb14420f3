"""Fazhi shared library."""
