"""Intake: questionnaire versions, pages, guest links, answers, consent, staff review."""
