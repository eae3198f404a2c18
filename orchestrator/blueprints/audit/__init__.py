"""Audit validation (seed 000): two blueprints and what they share.

``orchestrator serve --blueprints orchestrator.blueprints.audit`` serves both:

* ``validate_audit`` (``validate.py``): check, load, e-mail in parallel, record, notify;
* ``compute_audit_results`` (``compute.py``): replace an audit's answers, recompute its score.

``fields.py`` checks the inputs, ``score.py`` is the score formula, ``mail.py`` the message.
The workers they need are in ``orchestrator.blueprints.workers`` (``docs/processes.md``).
"""

from orchestrator.blueprints.audit.compute import blueprint as compute_audit_results
from orchestrator.blueprints.audit.validate import blueprint as validate_audit

__all__ = ["compute_audit_results", "validate_audit"]
