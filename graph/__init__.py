"""hydrascope algorithm core (pure library)."""
