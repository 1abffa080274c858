"""Pure rules about patients: search keys and how a typed search is read."""
