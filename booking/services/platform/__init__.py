"""Shared plumbing for every context: the outbox, audit rows, token hashes, email addresses."""
