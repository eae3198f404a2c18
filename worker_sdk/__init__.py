"""Worker SDK for the blueprint orchestrator.

Write handlers, register them on a :class:`Worker`, and run it::

    from worker_sdk import TaskContext, TaskError, Worker

    worker = Worker()

    @worker.task("echo")
    async def echo(params: dict, ctx: TaskContext) -> dict:
        if "text" not in params:
            raise TaskError("MISSING_FIELDS", "text is required")
        return {"echo": params["text"]}

Then ``python -m worker_sdk run my_module:worker`` (settings from ``ORCH_URL``,
``ORCH_WORKER_TOKEN``... see ``--help``). :mod:`worker_sdk.testing` runs a handler in a unit
test without an orchestrator.
"""

from .config import WorkerSettings
from .context import TaskContext
from .errors import RetryLater, TaskError
from .files import JobFiles
from .results import TaskResult
from .worker import Worker

__all__ = [
    "JobFiles",
    "RetryLater",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "Worker",
    "WorkerSettings",
]
