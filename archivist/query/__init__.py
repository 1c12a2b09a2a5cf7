"""Query: search over a published build (filters, retrieval, fusion, grouping, best sentence)."""
