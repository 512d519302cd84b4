"""Continuous training: `mlcode retrain` refreshes data, decides per model, reproduces, gates and promotes."""
