"""The pure domain: process definitions, the lifecycle machine, gates, deadlines and calendar.

Nothing here does IO or imports a framework for HTTP, databases or orchestration.
"""
