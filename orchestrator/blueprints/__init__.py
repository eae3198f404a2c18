"""Domain blueprints (SPEC §5: audit validation, alerts, ticket workflows, notifications).

``tickets``: the ticket workflows of seed 003, compiled from ``workflows/*.workflow.yaml``
(``docs/workflows.md``). ``orchestrator/examples/`` holds the example blueprints used by the
demo and the docs.
"""
