"""Step memoization: reuse an earlier task when nothing it depends on changed, and say why when it did.

``codehash`` fingerprints a step's code; ``key`` builds the static part of a
task's cache key and its read set; ``store.cache_entries`` stores cache entries; ``lookup``
finds a hit for a planned task; ``why`` explains a hit or a miss.
"""
