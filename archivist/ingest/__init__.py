"""Ingest: archive files to `Article` records, and articles to passages (`Chunk`) with offsets."""
