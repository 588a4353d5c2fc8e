"""Persistence: SQLAlchemy models, the unit of work, migrations and the hash-chained audit log."""
