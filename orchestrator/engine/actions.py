"""What a handler may decide, and the ``actions`` object it decides through."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine.human_spec import HumanSpec, SpecError, build
from orchestrator.engine.model import JSON, RetryPolicy
from orchestrator.engine.requires import RequiresError, encode


@dataclass(frozen=True)
class GoTo:
    state: str


@dataclass(frozen=True)
class DispatchTask:
    task_type: str
    params: JSON
    transitions: dict[str, str]
    timeout_s: float | None
    retry: RetryPolicy
    priority: int
    dispatch_timeout_s: float | None
    catch: dict[str, str] = field(default_factory=dict)
    result_schema: JSON | None = None
    requires: str = ""
    """The requirement set, encoded (``engine/requires.py``)."""


FAILURE_POLICIES = ("fail_fast", "collect")


@dataclass(frozen=True)
class DispatchParallel:
    tasks: tuple[DispatchTask, ...]
    aggregate_into: str
    failure_policy: str


@dataclass(frozen=True)
class AwaitHuman:
    decisions: dict[str, str]
    timeout_s: float | None
    on_timeout: str | None
    spec: HumanSpec = field(default_factory=HumanSpec)
    """Role, assignee, texts, fields, due time and escalations (``human_spec.py``)."""


@dataclass(frozen=True)
class RunBlueprint:
    blueprint: str
    initial_data: JSON
    transitions: dict[str, str]


@dataclass(frozen=True)
class Finish:
    result: Any


@dataclass(frozen=True)
class Fail:
    code: str
    message: str


Action = GoTo | DispatchTask | DispatchParallel | AwaitHuman | RunBlueprint | Finish | Fail


class ActionError(Exception):
    """A handler used ``actions`` wrongly; the job fails with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Actions:
    """Handed to a handler as ``actions``; it must choose exactly one action."""

    def __init__(self) -> None:
        self._chosen: Action | None = None

    @property
    def chosen(self) -> Action | None:
        return self._chosen

    def _choose(self, action: Action) -> None:
        if self._chosen is not None:
            raise ActionError(
                "MULTIPLE_ACTIONS",
                f"a handler chose {type(action).__name__} after {type(self._chosen).__name__}; "
                "call exactly one action",
            )
        self._chosen = action

    def go_to(self, state: str) -> None:
        """Move to ``state`` and run its handler."""
        self._choose(GoTo(state))

    def dispatch_task(
        self,
        task_type: str,
        params: Mapping[str, Any] | None = None,
        *,
        transitions: Mapping[str, str],
        timeout: float | None = None,
        retries: int = 3,
        priority: int = 0,
        dispatch_timeout: float | None = None,
        retry_policy: RetryPolicy | None = None,
        catch: Mapping[str, str] | None = None,
        result_schema: Mapping[str, Any] | None = None,
        requires: Mapping[str, Any] | None = None,
    ) -> None:
        """Hand a task to a worker and move on when its result arrives.

        Args:
            task_type: the skill a worker must have.
            params: JSON data given to the worker.
            transitions: result status (``"success"``, ``"failure"``, or a custom one the
                worker reports) → next state.
            timeout: seconds a worker may run one attempt (passed to the worker).
            retries: extra attempts after a retryable failure or a lost lease.
            priority: 0 (default) to 9; higher is taken first, FIFO within a priority.
            dispatch_timeout: seconds the task may wait for a worker; overrides the job's.
            retry_policy: the full policy; ``retries`` sets only its attempt count.
            catch: final error code (the worker's, or ``DISPATCH_TIMEOUT``,
                ``EXECUTION_TIMEOUT``, ``HEARTBEAT_TIMEOUT``) → state to go to instead of
                failing the job.
            result_schema: a JSON-schema subset (type, properties, required, items, enum) a
                success result must match; a result that does not quarantines the job.
            requires: what the worker must offer: ``{"tags": [...]}`` (every tag among the
                worker's ``WORKER_TAGS``) and label ``key: value`` pairs (each equal in its
                ``WORKER_LABELS``). Until such a worker is live the task waits, shown as
                unroutable (``dispatch_timeout`` still applies).
        """
        if not transitions:
            raise ActionError("INVALID_ACTION", "dispatch_task needs transitions={status: state}")
        self._choose(
            task_spec(
                task_type,
                params,
                transitions=transitions,
                timeout=timeout,
                retries=retries,
                priority=priority,
                dispatch_timeout=dispatch_timeout,
                retry_policy=retry_policy,
                catch=catch,
                result_schema=result_schema,
                requires=requires,
            )
        )

    def dispatch_parallel(
        self,
        tasks: Iterable[Mapping[str, Any]],
        *,
        aggregate_into: str,
        failure_policy: str = "fail_fast",
    ) -> None:
        """Fan out one task per item and move to ``aggregate_into`` once every branch reported.

        Each item holds ``task_type`` and optionally ``params``, ``timeout``, ``retries``,
        ``priority``, ``retry_policy``, ``requires``. The aggregator handler gets
        ``parallel_results``: one ``{"task_type", "status", "data", "error"}`` per branch, in
        the order given.
        ``failure_policy``: ``"fail_fast"`` fails the job at the first branch that fails for
        good (cancelling the others); ``"collect"`` waits for all and lets the aggregator decide.
        """
        if failure_policy not in FAILURE_POLICIES:
            raise ActionError(
                "INVALID_ACTION", f"failure_policy must be one of {', '.join(FAILURE_POLICIES)}"
            )
        specs = []
        for i, item in enumerate(tasks):
            if not isinstance(item, Mapping) or "task_type" not in item:
                raise ActionError("INVALID_ACTION", f"parallel task {i} needs a task_type")
            options = {k: v for k, v in item.items() if k not in {"task_type", "params"}}
            specs.append(
                task_spec(item["task_type"], item.get("params"), transitions={}, **options)
            )
        if not specs:
            raise ActionError("INVALID_ACTION", "dispatch_parallel needs at least one task")
        self._choose(DispatchParallel(tuple(specs), aggregate_into, failure_policy))

    def await_human(
        self,
        decisions: Mapping[str, str],
        *,
        timeout: float | None = None,
        on_timeout: str | None = None,
        **human: Any,
    ) -> None:
        """Wait for a person's decision: decision → state (see ``docs/human-steps.md``).

        ``human`` takes ``role``, ``assignee``, ``title``, ``instructions``, ``fields`` (name
        → schema, with ``required`` and ``for``), ``due_in`` (seconds), ``escalations`` (a
        list of ``{after, to_role, to_assignee, notify}``) and ``summary`` (what the inbox
        shows of the job). A decision comes from ``POST /api/v1/jobs/{id}/decision`` or the
        approval webhook.
        """
        if not decisions:
            raise ActionError("INVALID_ACTION", "await_human needs decisions={decision: state}")
        if on_timeout is not None and timeout is None:
            raise ActionError("INVALID_ACTION", "on_timeout needs a timeout")
        try:
            spec = build(decisions, **human)
        except (SpecError, TypeError) as exc:
            raise ActionError("INVALID_ACTION", f"await_human: {exc}") from None
        self._choose(AwaitHuman(dict(decisions), timeout, on_timeout, spec))

    def run_blueprint(
        self,
        name: str,
        initial_data: Mapping[str, Any] | None = None,
        *,
        transitions: Mapping[str, str],
    ) -> None:
        """Start a child job of blueprint ``name``; child's final status → state."""
        if not transitions:
            raise ActionError("INVALID_ACTION", "run_blueprint needs transitions={status: state}")
        self._choose(RunBlueprint(name, dict(initial_data or {}), dict(transitions)))

    def finish(self, result: Any = None) -> None:
        """End the job ``finished`` with ``result`` (an end state may also just return it)."""
        self._choose(Finish(result))

    def fail(self, code: str, message: str = "") -> None:
        """End the job ``failed`` with an error code."""
        self._choose(Fail(code, message))


def task_spec(
    task_type: str,
    params: Mapping[str, Any] | None,
    *,
    transitions: Mapping[str, str],
    timeout: float | None = None,
    retries: int = 3,
    priority: int = 0,
    dispatch_timeout: float | None = None,
    retry_policy: RetryPolicy | None = None,
    catch: Mapping[str, str] | None = None,
    result_schema: Mapping[str, Any] | None = None,
    requires: Mapping[str, Any] | None = None,
) -> DispatchTask:
    if not isinstance(task_type, str) or not task_type:
        raise ActionError("INVALID_ACTION", "a task needs a task type")
    if not isinstance(priority, int) or not 0 <= priority <= 9:
        raise ActionError("INVALID_ACTION", f"priority must be 0..9, got {priority}")
    if params is not None and not isinstance(params, Mapping):
        raise ActionError("INVALID_ACTION", "task params must be a mapping")
    try:
        encoded = encode(requires)
    except RequiresError as exc:
        raise ActionError("INVALID_ACTION", str(exc)) from None
    policy = retry_policy or RetryPolicy(max_attempts=max(0, retries) + 1)
    return DispatchTask(
        task_type=task_type,
        params=dict(params or {}),
        transitions=dict(transitions),
        timeout_s=timeout,
        retry=policy,
        priority=priority,
        dispatch_timeout_s=dispatch_timeout,
        catch=dict(catch or {}),
        result_schema=dict(result_schema) if result_schema is not None else None,
        requires=encoded,
    )
