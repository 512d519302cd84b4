"""Equality of YAML data as YAML means it: the one deep comparison every module that checks data
uses (compile reading back what it dumped, yamledit checking an edit, experiments diffing params,
params pull checking the result).

Pure. `same` tells bool from int and 1 from 1.0, takes NaN as equal to NaN, and compares mapping
order unless `ordered` is false.
"""

from __future__ import annotations

import math
from typing import Any


def same(a: Any, b: Any, *, ordered: bool = True) -> bool:
    """Deep equality that also tells bool from int and 1 from 1.0 and treats NaN as equal to NaN;
    mapping order counts unless `ordered` is false."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys_match = list(a) == list(b) if ordered else a.keys() == b.keys()
        return keys_match and all(same(a[k], b[k], ordered=ordered) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(
            same(x, y, ordered=ordered) for x, y in zip(a, b, strict=True)
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)
