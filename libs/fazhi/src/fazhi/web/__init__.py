"""The web pieces every api shares: security headers, pages from Jinja2 templates and their
static files, list routes, CSV files and bounded request bodies (one module each)."""
