"""Build: reindex (diff, split, embed, write, publish), copies and story groups."""
