"""The `upphandla` command."""
