"""Intake rules (pages, answers, flags) and the published questionnaire definitions."""
