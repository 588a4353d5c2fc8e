"""Use cases, as plain functions with keyword-only arguments, and their Prefect orchestration.

The same functions serve the API, the CLI and the scheduled flows. They receive an open unit of
work and never commit: the caller commits once, or the whole step rolls back.
"""
