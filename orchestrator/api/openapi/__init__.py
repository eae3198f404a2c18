"""The OpenAPI 3.1 document of every route (``document.py`` serves it): the operations, one
row each (``paths.py``, built by ``operations.py``; ``declared.py`` for the routes blueprints
declare), the request bodies (``schemas.py``) and the answers (``answers.py``)."""

from orchestrator.api.openapi.document import build_document, docs_page, routes

__all__ = ["build_document", "docs_page", "routes"]
