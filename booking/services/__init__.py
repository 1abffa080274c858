"""Services grouped by bounded context; each module flushes and raises DomainError, never commits.

accounts/ clinic/ rota/ booking/ intake/ articles/ api/ platform/ (docs/architecture.md).
"""
