"""Reproducible benchmarks (not timed tests). Each module prints its figures next to a
baseline measured in the same run. `make bench` runs them all."""
