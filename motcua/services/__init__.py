"""The domain: the only place with select/add/commit. Returns plain data."""
