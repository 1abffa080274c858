"""The JSON API's own services: bearer tokens, idempotency keys, bookings and the catalogue."""
