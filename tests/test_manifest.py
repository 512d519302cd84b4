"""The manifest round-trips and tolerates damage (a broken manifest owns nothing)."""

from __future__ import annotations

from mlcode.project.manifest import Manifest, inputs_hash, parse_manifest


def test_round_trip() -> None:
    m = Manifest(files={"b": "2", "a": "1"}, inputs="abc", mlcode_version="0.1.0")
    assert parse_manifest(m.to_text()) == m
    assert m.to_text().index('"a"') < m.to_text().index('"b"')


def test_damaged_manifest_is_empty() -> None:
    for text in (None, "", "{", "[]", '{"version": 99, "files": {}}', '{"version": 1, "files": 3}'):
        assert parse_manifest(text).files == {}


def test_inputs_hash_separates_parts() -> None:
    assert inputs_hash(b"ab", b"c", "1", "t") != inputs_hash(b"a", b"bc", "1", "t")
    assert inputs_hash(b"a", b"b", "1", "t") != inputs_hash(b"a", b"b", "2", "t")
    assert inputs_hash(b"a", b"b", "1", "t") != inputs_hash(b"a", b"b", "1", "u")
    assert inputs_hash(b"a", b"b", "1", "t") == inputs_hash(b"a", b"b", "1", "t")
