"""Clients of the forges a promotion opens its pull / merge request on (GitHub, GitLab, none).

They take plain values (API URL, token, repository); the stack is read by the caller.
"""
