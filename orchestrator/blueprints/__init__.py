"""Domain blueprints (SPEC §5: audit validation, alerts, ticket workflows, notifications).

None ships yet; ``orchestrator/examples/`` holds the example blueprints used by the demo and
the docs.
"""
