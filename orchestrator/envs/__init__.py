"""Step environments: specs from @conda/@pypi, lock files, and what they resolve to."""
