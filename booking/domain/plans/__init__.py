"""Treatment plans: occurrences of a course and the nearest alternatives (domain.md §2, §3)."""
