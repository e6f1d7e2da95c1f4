"""Ingestion: clean policy pages, parse their clause tree, index them for hybrid search."""
