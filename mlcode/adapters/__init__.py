"""Adapters to the outside world, one module each: git, dvc. Everything else stays pure."""
