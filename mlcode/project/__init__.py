"""The working tree of one project: what `plan`, `apply`, `check`, `run`, `init` and `params pull`
do with it.

Pure cores (values in, values out; no adapters, no subprocess, no file I/O): `plan`, `planview`,
`manifest`, `experiments`, `metrics_table`, `scaffold`, `remote`. The I/O edge reads and writes
the working tree and calls git and DVC through `mlcode.adapters`.
"""
