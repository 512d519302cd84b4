"""The working tree of one project: what `init`, `plan`, `apply`, `check`, `run` and `params pull`
do with it. The CLI commands are thin; the work is here.

Pure cores (values in, values out; no adapters, no subprocess, no file I/O):
- `plan` (compiled files + disk + manifest → Plan), `planview` (a Plan as text and JSON),
- `manifest` (the record of generated files), `remote` (the DVC remote a stack asks for),
- `experiments` (what a DVC experiment changed, and where in ml.yaml it belongs),
- `metrics_table` (what `run` reports), `scaffold` (the ml.yaml `init` writes).

The I/O edge, reading and writing the working tree and calling git and DVC through
`mlcode.adapters`:
- `workspace` (load ml.yaml, read the disk, compute the plan), `sync` (the manifest's fast
  in-sync answer, shared by plan and check), `preflight` (what apply would refuse),
- `apply` (carry out a plan), `savedplan` (`plan --out` / `apply PLAN`), `lock`,
- `check` (the pre-commit check of what git is about to commit), `pull` (`params pull`),
- `run_report` (`run`: stale stages, reproduce, gather the report), `init` (write a new project)
  and `examples` (`init --example`'s data).

The shared modules never import one command's module (apply, check, pull, run_report, savedplan,
init, examples): pyproject.toml's import-linter contracts.
"""
