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


def test_help_says_tags_and_labels_meet_task_requirements(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/worker-sdk.md, "Routing": a task's ``requires`` is matched against both."""
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out.splitlines()
    [tags] = [x for x in out if "WORKER_TAGS" in x]
    [labels] = [x for x in out if "WORKER_LABELS" in x]
    assert "requires" in tags and "all of them" in tags, tags
    assert "requires" in labels and "key=value" in labels, labels


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
