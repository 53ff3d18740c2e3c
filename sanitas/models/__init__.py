"""Model versions of a dataset: training jobs, pinning, cached deterministic predictions."""
