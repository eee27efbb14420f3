"""Search of everything published: text analysis, the tantivy read model and its projection."""
