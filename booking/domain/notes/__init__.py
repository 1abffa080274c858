"""Clinical notes: acupuncture point codes (WHO notation) and the rules for signing a note."""
