"""Patients at the front desk: search, the record's sessions and missed-session count."""
