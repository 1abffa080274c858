"""The demo clinic and its activity, seeded by `flask seed-demo` (never by production code)."""
