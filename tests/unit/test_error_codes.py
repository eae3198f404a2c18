"""``orchestrator/error_codes.py`` is the one list of the API's error codes, and it is true.

The code base is read, not run: every ``OrchestratorError`` (or subclass) constructed in
``orchestrator/`` names its code (or takes its class's), and its class gives the status.
"""

from __future__ import annotations

import ast

from orchestrator.error_codes import CODES, markdown_table
from tests.helpers import ROOT

TREES = {p: ast.parse(p.read_text()) for p in sorted((ROOT / "orchestrator").rglob("*.py"))}


def _error_classes() -> dict[str, tuple[int, str]]:
    """Name → (status, default code) of ``OrchestratorError`` and every class under it."""
    found = {"OrchestratorError": (500, "INTERNAL_ERROR")}
    classes = [n for t in TREES.values() for n in ast.walk(t) if isinstance(n, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            bases = [ast.unparse(b).split(".")[-1] for b in cls.bases]
            base = next((found[b] for b in bases if b in found), None)
            if base is None or cls.name in found:
                continue
            attrs = {
                s.targets[0].id: s.value.value
                for s in cls.body
                if isinstance(s, ast.Assign)
                and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Constant)
            }
            found[cls.name] = (attrs.get("status", base[0]), attrs.get("code", base[1]))
            grew = True
    return found


def raised() -> dict[str, set[tuple[int, str]]]:
    """Code → {(status, where)} for every error the code base constructs or answers with."""
    classes = _error_classes()
    out: dict[str, set[tuple[int, str]]] = {}
    for path, tree in TREES.items():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in classes:
                status, code = classes[ast.unparse(node.func).split(".")[-1]]
                given = {k.arg: k.value for k in node.keywords}.get("code")
                if given is not None:
                    assert isinstance(given, ast.Constant), f"{where}:{node.lineno}: a code must be"
                    code = given.value
                out.setdefault(code, set()).add((status, f"{where}:{node.lineno}"))
            elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "_HTTP_CODES":
                assert isinstance(node.value, ast.Dict)
                for k, v in zip(node.value.keys, node.value.values, strict=True):
                    status, code = ast.literal_eval(k), ast.literal_eval(v)
                    out.setdefault(code, set()).add((status, f"{where}:{node.lineno}"))
    return out


def envelopes() -> dict[str, str]:
    """Codes the HTTP layer writes into an error body by hand: code → where."""
    out: dict[str, str] = {}
    for path, tree in TREES.items():
        if path.parent.name != "api":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    named = isinstance(k, ast.Constant) and k.value == "code"
                    if named and isinstance(v, ast.Constant) and isinstance(v.value, str):
                        out[v.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return out


RAISED = raised()


def test_the_scan_sees_the_code_base() -> None:
    assert len(RAISED) > 30
    assert "JOB_NOT_FOUND" in RAISED
    assert "INTERNAL_ERROR" in envelopes()


def test_every_code_raised_is_registered_with_its_status() -> None:
    wrong = {
        f"{code} {status} at {where}"
        for code, uses in RAISED.items()
        for status, where in uses
        if code not in CODES or CODES[code].status != status
    }

    assert sorted(wrong) == []


def test_every_code_written_into_a_body_is_registered() -> None:
    assert sorted(f"{c} at {w}" for c, w in envelopes().items() if c not in CODES) == []


def test_every_registered_code_is_raised_somewhere() -> None:
    assert sorted(set(CODES) - set(RAISED) - set(envelopes())) == []


def test_the_api_reference_shows_the_registry() -> None:
    # the table sits in a list item: compare the lines without their indent
    doc = "\n".join(line.strip() for line in (ROOT / "docs" / "api.md").read_text().splitlines())

    assert markdown_table() in doc, "paste `python -m orchestrator.error_codes` into docs/api.md"
