"""Data drift between a reference and a current dataset, column by column.

- `mlcode.drift.stattests`: the statistics, one pure numpy/scipy function per method.
- `mlcode.drift.detect`: column kinds, the method each column gets (Evidently 0.7's defaults when the
  method is `auto`), per-column verdicts and the dataset-level result, as frozen values.
- `mlcode.drift.files`: reading two datasets one column at a time from CSV or Parquet files and
  comparing them (bounded memory): the I/O edge, used by the built-in drift step.

Importing this package imports nothing heavy; numpy, scipy and pyarrow load with the submodules.
"""
