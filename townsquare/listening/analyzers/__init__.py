"""Offline text analyzers. Each is versioned; its output can be recomputed from the raw text."""
