"""rasa-sdk actions: read slots and entities, call the domain packages, format replies.

Served by `python -m actions.server` (one process, warmed up before it accepts requests).
"""
