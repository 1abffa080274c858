"""Clinic set-up: settings, policies, locations and rooms, session types, practitioners."""
