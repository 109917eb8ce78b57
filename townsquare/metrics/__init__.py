"""Community metrics as tested functions (docs/metrics.md, "Metrics"); no models."""
