"""Booking: availability, holds, bookings, changes, drafts, patients, calendar files, emails."""
