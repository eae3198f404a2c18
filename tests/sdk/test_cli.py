"""The `worker` command line: help, and one-line errors for bad targets."""

from __future__ import annotations

import uuid
from pathlib import Path

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


MY_WORKER = """\
from worker_sdk import Worker

worker = Worker()


@worker.task("greet")
async def greet(params, ctx):
    return {"greeting": "hi"}
"""

WORKER_TYPOS = {
    "a misspelt decorator": (
        MY_WORKER.replace("@worker.task", "@worker.tsak"),
        "AttributeError: 'Worker' object has no attribute 'tsak'. Did you mean: 'task'? "
        "(my_worker.py, line 6)",
    ),
    "a syntax error": (
        MY_WORKER.replace("(params, ctx):", "(params, ctx)"),
        "SyntaxError: expected ':' (my_worker.py, line 7)",
    ),
    "a handler of three arguments": (
        MY_WORKER.replace("(params, ctx)", "(params, ctx, extra)"),
        "TypeError: handler greet for 'greet' is invalid: 3 required positional parameters "
        "(at most 2: params, ctx) (my_worker.py, line 6)",
    ),
    "an error at import": (
        MY_WORKER + "LIMIT = int('ten')\n",
        "ValueError: invalid literal for int() with base 10: 'ten' (my_worker.py, line 9)",
    ),
}


@pytest.mark.parametrize("typo", WORKER_TYPOS, ids=list(WORKER_TYPOS))
def test_a_mistake_in_the_worker_module_is_one_line_naming_the_line(
    typo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The mistake and where it is, not importlib's frames (exit 2, as for a bad target)."""
    source, says = WORKER_TYPOS[typo]
    module = f"my_worker_{uuid.uuid4().hex[:8]}"  # each case imports its own module afresh
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    assert main(["run", f"{module}:worker"]) == 2

    expected = says.replace("my_worker.py", f"{module}.py")
    assert capsys.readouterr().err == (
        f"worker: error: cannot import module {module!r}: {expected}\n"
    )


def test_a_file_name_as_the_target_says_to_give_the_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "my_worker.py:worker"]) == 2
    assert "give the module's name, without .py: my_worker:worker" in capsys.readouterr().err


def test_a_missing_module_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The usual cause: the worker was started from another directory than its file's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as the commands do
    assert main(["run", "my_worker:worker"]) == 2
    assert capsys.readouterr().err == (
        "worker: error: cannot import module 'my_worker': No module named 'my_worker' "
        f"(looked in the current directory, {tmp_path}, and the installed packages)\n"
    )
