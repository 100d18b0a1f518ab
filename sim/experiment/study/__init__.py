"""`skill-sim study`: a grid of scenarios (axes x seeds) run as cells on an executor, with shared
learning, resumable per-cell results, tidy tables and figures (see spec, cells, store, tables)."""
