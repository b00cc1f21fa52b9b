"""Run the critic's fit in a child process whose linear algebra uses one thread: the same bytes on every setting.

Measured (issue #23): OpenBLAS cuts matrix products and solves differently by thread count: on the critic's
1,067 x 1,153 feature matrix, 1 and 2 threads gave Hessians, gradients and Newton steps that differ in their
last bits. The fit amplifies what it is given about 300-fold (features moved by 1e-6 moved weights by 3e-4),
so last-bit noise lands near the 7th significant digit the model file keeps: the full refit gave the same
numbers with 1 and 2 threads here, but a weight near a rounding boundary can flip, and with it a threshold.
The thread count is fixed when numpy loads its BLAS (``threadpoolctl`` is not a dependency), so the fit runs
in a fresh interpreter started with the BLAS thread variables set to 1. The inputs and the result travel as a
pickle in a private temp folder.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
CHILD_FLAG = "COACH_ONE_BLAS_THREAD"  # set in the child: it runs the function in its own process


def one_blas_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` computed with one BLAS thread (in a child process unless this is one).

    ``function`` must be a module-level function (it is pickled by name); its exceptions are raised here.
    """
    if os.environ.get(CHILD_FLAG) == "1":
        return function(*args, **kwargs)
    env = dict(os.environ, **dict.fromkeys(BLAS_THREADS, "1"), **{CHILD_FLAG: "1"})
    with tempfile.TemporaryDirectory(prefix="coach-fit-") as folder:
        job, answer = Path(folder) / "job.pickle", Path(folder) / "answer.pickle"
        job.write_bytes(pickle.dumps((function, args, kwargs)))
        done = subprocess.run(
            [sys.executable, "-m", "coach.judging.one_thread", str(job), str(answer)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not answer.exists():
            raise RuntimeError(f"the fit's child process failed ({done.returncode}): {done.stderr[-2000:]}")
        ok, value = pickle.loads(answer.read_bytes())
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _child(job: Path, answer: Path) -> None:
    """In the child: run the pickled call and pickle back its result or its exception."""
    function, args, kwargs = pickle.loads(job.read_bytes())
    try:
        result: tuple[bool, Any] = (True, function(*args, **kwargs))
    except Exception as exc:  # carried to the parent and raised there
        result = (False, exc)
    answer.write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]))
