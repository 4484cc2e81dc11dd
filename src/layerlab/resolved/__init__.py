"""Microstructure-resolved half-cell electrochemistry (dolfinx multi-domain)."""
