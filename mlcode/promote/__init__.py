"""Promotion: a model that passes its gates becomes a reviewed git change (a branch, a version tag,
a pull / merge request) after its data reached the DVC remote.
"""
