"""Accounts: passwords, sign-in with its brute-force counter, server-side sessions."""
