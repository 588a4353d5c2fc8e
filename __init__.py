"""upphandla: the workflow engine for a Swedish municipality's IT procurements.

The repository's top-level folders are this package's subpackages: `states` (the pure domain),
`store` (persistence), `flows` (the application), `notifications`, `api`, `cli` and `seeds`.
"""
