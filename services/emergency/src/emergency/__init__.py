"""emergency service."""
