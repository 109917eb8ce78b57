"""Community metrics as tested functions (docs/metrics.md, "Metrics") and the rollup tables
behind the slowest of them."""
