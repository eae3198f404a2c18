"""Domain blueprints (SPEC §5: audit validation, alerts, ticket workflows, notifications).

``alerts``: seed 001's alert process (``alert_settings``, ``alert_view``, ``alert_schemas``
beside it); ``tickets``: the ticket workflows of seed 003, compiled from
``workflows/*.workflow.yaml`` (``docs/workflows.md``); ``audit``: seed 000's audit validation;
``notifications``: the ``notify`` task they share. ``workers/`` holds their example workers,
``docs/processes.md`` describes them all. ``orchestrator/examples/`` holds the example
blueprints of the docs.
"""
