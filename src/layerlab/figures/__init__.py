"""Figures: one per paper comparison, the paper's reported values as markers."""
