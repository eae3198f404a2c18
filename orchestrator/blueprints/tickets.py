"""Ticket workflows (seed 003), compiled from the ``*.workflow.yaml`` files beside this module.

``orchestrator serve --blueprints orchestrator.blueprints.tickets`` serves them all; each
starts tickets at ``POST /api/v1/<slug of its name>`` (``/api/v1/it-support-request``).
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.workflows.build import load_file

FOLDER = Path(__file__).parent / "workflows"

it_support_request = load_file(FOLDER / "it_support_request.workflow.yaml").blueprint
incident_review = load_file(FOLDER / "incident_review.workflow.yaml").blueprint
