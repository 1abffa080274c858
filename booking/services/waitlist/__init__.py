"""The waitlist: entries patients and reception add, and offers of freed times (domain.md §1)."""
