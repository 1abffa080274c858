"""Clinical notes: drafts, signing (locked after), addenda, reading, follow-ups (issue 16)."""
