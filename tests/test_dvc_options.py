"""The vendored table of DVC remote options equals the installed DVC's own config schema.

mlcode never imports DVC to validate a stack (validate and check stay light); this test is what
catches a DVC upgrade that adds, renames or drops a remote option.
"""

from __future__ import annotations

import pytest

from mlcode.spec.dvc_options import REMOTE_OPTIONS
from mlcode.spec.stack import REMOTE_TYPES


def _dvc_keys(remote_type: str) -> set[str]:
    from dvc.config_schema import DEPRECATED, REMOTE_SCHEMAS
    from voluptuous import Marker

    keys: set[str] = set()
    for entry in REMOTE_SCHEMAS["" if remote_type == "local" else remote_type]:
        if isinstance(entry, Marker) and entry.description == DEPRECATED:
            continue
        key = entry.schema if isinstance(entry, Marker) else entry
        assert isinstance(key, str)
        keys.add(key)
    return keys


def test_every_remote_type_has_its_options() -> None:
    assert set(REMOTE_OPTIONS) == set(REMOTE_TYPES)


@pytest.mark.parametrize("remote_type", REMOTE_TYPES)
def test_vendored_options_match_the_installed_dvc(remote_type: str) -> None:
    assert set(REMOTE_OPTIONS[remote_type]) == _dvc_keys(remote_type)


def test_dvc_refuses_an_option_the_table_lacks() -> None:
    """DVC's own validator refuses unknown keys: the table is what stands between them."""
    from dvc.config import Config, ConfigError

    for remote_type in REMOTE_OPTIONS:
        url = "/tmp/store" if remote_type == "local" else f"{remote_type}://host/path"
        Config.validate({"remote": {"r": {"url": url}}})
        with pytest.raises(ConfigError):
            Config.validate({"remote": {"r": {"url": url, "no_such_option": "1"}}})
