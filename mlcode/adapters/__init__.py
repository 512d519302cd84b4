"""Adapters to the outside world, one module each: `proc` (running programs), `git`, `dvc`, `fs`
(atomic writes, bounded reads) and `repo` (finding the repository root). They are the only modules
that run programs; the pure cores never import them (the layer contract in pyproject.toml)."""
