"""The `worker` command line: help, and one-line errors for bad targets."""

from __future__ import annotations

import pytest

from worker_sdk.cli import main


def test_help_describes_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for var in ("ORCH_URL", "ORCH_WORKER_TOKEN", "WORKER_ID", "WORKER_CAPACITY"):
        assert var in out


def test_help_does_not_promise_that_tags_route_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/worker-sdk.md: the orchestrator does not match tasks against tags today."""
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    [line] = [x for x in capsys.readouterr().out.splitlines() if "WORKER_TAGS" in x]
    assert "not matched" in line and "requirement" not in line, line


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("no_colon", "expected module:attr"),
        ("no_such_module_xyz:worker", "cannot import module 'no_such_module_xyz'"),
        ("orchestrator.examples.echo_worker:missing", "has no attribute 'missing'"),
        ("orchestrator.examples.echo_worker:echo", "not a worker_sdk.Worker"),
    ],
)
def test_bad_target_is_one_line_and_exit_2(
    target: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", target]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_environment_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKER_CAPACITY", "zero")
    assert main(["run", "orchestrator.examples.echo_worker:worker"]) == 2
    assert "WORKER_CAPACITY" in capsys.readouterr().err
