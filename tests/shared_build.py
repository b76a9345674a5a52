"""Build an expensive, read-only test input (a corpus crawled for real) once per test run.

Without pytest-xdist that is once per session, in a folder of the session's temporary
directory. Under xdist (``-n N``) every worker is a session of its own: the first worker to ask
builds the input in the run's shared temporary directory while the others wait on a lock, and
all of them read the same files."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Callable

_BUILT: dict[str, Path] = {}


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``build(folder)`` filled, built once per run; never change what is in it."""
    if name in _BUILT:
        return _BUILT[name]
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
    else:
        root = tmp_path_factory.getbasetemp().parent  # the run's, shared by its workers
        folder = root / f"shared-{name}"
        with open(root / f"shared-{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            built = folder / ".built"
            if not built.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a worker's build that failed
                folder.mkdir()
                build(folder)
                built.touch()
    _BUILT[name] = folder
    return folder
