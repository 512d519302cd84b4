"""mlcode: ML as code in a git repository.

`ml.yaml` declares data, models, gates and infrastructure; mlcode compiles it into DVC pipelines and
CI workflows, versions the data with DVC and reproduces the models through `dvc repro`.

Packages, in layers (each imports only those below it; pyproject.toml's import-linter contracts):
`cli` → `project` → `compile` | `steps` → `spec` | `drift` → `adapters` → the foundation
(`errors`, `layout`, `resources`).
"""

__version__ = "0.3.0"
