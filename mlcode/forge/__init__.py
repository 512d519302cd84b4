"""Clients of the forges a promotion opens its pull / merge request on (GitHub, GitLab, none).

They take plain values (API URL, token, repository); the stack is read by the caller. Entry point:
`mlcode.forge.select.make_forge`; the interface: `mlcode.forge.base.Forge`.

Built on the standard library (`urllib`, one transport in `http.py`) rather than PyGithub and
python-gitlab: about ten endpoints are used, the core install stays light (those two bring
requests, and PyGithub also PyNaCl, PyJWT and cryptography), one retry policy (rate limits with
an injectable clock and sleep) and one redaction rule serve both forges, and the contract tests
hold every request to the forge's published description either way.
"""
