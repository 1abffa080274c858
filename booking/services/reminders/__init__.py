"""Automatic emails about upcoming sessions: session reminders, the intake reminder, opt-out."""
