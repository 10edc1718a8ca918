"""Step environments as Docker images: a frozen spec, a pure renderer, and thin engine calls."""
