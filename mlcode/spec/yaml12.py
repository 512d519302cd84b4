"""YAML 1.2's core schema for PyYAML: how DVC (ruamel) reads and writes params.yaml.

PyYAML follows YAML 1.1, where `1e-05` is a string and `on` is a boolean; DVC writes YAML 1.2,
where `1e-05` is a float and `on` is text. Whatever reads a params.yaml that DVC may have written
(`dvc exp run -S`) reads it through here, so values keep the type DVC meant. Pure.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's core schema: `yes`/`on` stay text, `1e-05` is a float."""


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Yaml12Loader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first)
    )


def load_yaml12(text: str) -> Any:
    """A YAML document read with YAML 1.2's core schema (DVC's rules); raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a safe loader
