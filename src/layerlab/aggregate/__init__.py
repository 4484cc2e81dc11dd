"""Aggregation: per-run files -> tidy campaign datasets under results/datasets/."""
