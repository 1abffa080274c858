"""Treatment plans: proposals, atomic series booking, progress and outcomes (issue 17)."""
