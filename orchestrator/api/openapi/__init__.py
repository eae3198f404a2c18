"""The OpenAPI 3.1 document of every route (``document.py`` serves it): the shared schemas
(``schemas.py``), the answers (``answers.py``), and the paths of each audience in a module of
its own (clients ``paths.py``/``jobs.py``, workers ``worker_paths.py``, people ``human.py``,
``tickets.py``, blueprint routes ``declared.py`` and ``blueprints.py``)."""

from orchestrator.api.openapi.document import build_document, docs_page, routes

__all__ = ["build_document", "docs_page", "routes"]
