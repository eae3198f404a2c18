"""One line for an error raised while importing a user's module (``worker run``,
``orchestrator serve --blueprints``): a typo in a handler file should read as the typo and
where it is, not as twenty lines of importlib frames ending in it."""

from __future__ import annotations

import builtins
import difflib
import os
import re
import sys
import sysconfig
import traceback
from pathlib import Path

__all__ = ["import_failure", "missing_module_hint"]

_IMPORT_NAME = re.compile(r"cannot import name '([^']+)'")
_HERE = Path(__file__).resolve().parent
_LIBRARY = tuple(
    str(p) + os.sep
    for p in (
        Path(sysconfig.get_paths()["stdlib"]).resolve(),
        _HERE,
        _HERE.parent / "orchestrator",  # one distribution holds both packages
    )
)


def import_failure(exc: BaseException) -> str:
    """``"<Type>: <message> (<file>, line <n>)"``, naming the line of the user's code the
    error came from (a syntax error: where Python found it), with Python's "Did you mean"
    for a misspelt name or attribute, which Python 3.11 prints only with a traceback."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg}{_where(exc.filename, exc.lineno)}"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if (hint := _suggestion(exc)) and "Did you mean" not in text:
        text += f". Did you mean: {hint!r}?"
    frame = _user_frame(exc)
    return text + (_where(frame.filename, frame.lineno) if frame else "")


def missing_module_hint(module_name: str, attr: str) -> str:
    """What to add to "No module named ...", when the module itself is the one missing."""
    if module_name.endswith(".py"):
        spec = module_name.removesuffix(".py") + (f":{attr}" if attr else "")
        return f" (give the module's name, without .py: {spec})"
    here = os.getcwd()
    if "" in sys.path or here in sys.path:  # the commands put it there
        # The usual cause: the command was started from another directory than the file's.
        return f" (looked in the current directory, {here}, and the installed packages)"
    return ""


def _where(filename: str | None, lineno: int | None) -> str:
    if not filename:
        return ""
    try:
        shown = os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        shown = filename
    if shown.startswith(".."):
        shown = filename
    return f" ({shown}, line {lineno})" if lineno else f" ({shown})"


def _user_frame(exc: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of code that is neither Python's, an installed library's nor this
    project's own (the decorator that refused a handler is not where the mistake is), else the
    top level of the module being imported (an example module of this project, say)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    tops = [f for f in frames if f.name == "<module>" and not _is_library(f.filename)]
    if not tops:
        tops = [f for f in frames if f.name == "<module>" and "importlib" not in f.filename]
    if not tops:
        return None
    chain = frames[frames.index(tops[0]) :]
    users = [f for f in chain if not _is_library(f.filename)]
    return users[-1] if users else tops[0]


def _is_library(filename: str) -> bool:
    path = str(Path(filename).resolve())
    return path.startswith(_LIBRARY) or f"{os.sep}site-packages{os.sep}" in path


def _suggestion(exc: BaseException) -> str | None:
    name = getattr(exc, "name", None)
    if not isinstance(name, str) or not name:
        return None
    if isinstance(exc, AttributeError):
        target = getattr(exc, "obj", None)
        candidates = [] if target is None else dir(target)
    elif type(exc) is ImportError and name in sys.modules:  # from module import Misspelt
        # ImportError.name is the module here; the name only Python 3.12 keeps apart.
        wanted = getattr(exc, "name_from", None) or _IMPORT_NAME.search(str(exc))
        if wanted is None:
            return None
        name = wanted if isinstance(wanted, str) else wanted.group(1)
        candidates = dir(sys.modules[exc.name or ""])
    elif isinstance(exc, NameError):
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is None:
            return None
        scope = tb.tb_frame
        candidates = [*scope.f_locals, *scope.f_globals, *dir(builtins)]
    else:
        return None
    close = difflib.get_close_matches(name, candidates, n=1)
    return close[0] if close else None
