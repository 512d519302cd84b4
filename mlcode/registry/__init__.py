"""The model registry kept in git tags, in GTO's grammar: parse, read and write versions and stage
assignments (`<model>@v<semver>`, `<model>#<stage>#<n>`), so `gto show` reads what mlcode writes.
"""
