"""The ml.yaml v1 specification: models, stacks, loading with source positions, semantic checks."""
