"""open_government service."""
