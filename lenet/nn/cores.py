"""The CPU's threads while a network computes: decided here, for the whole of lenet.

Two kinds of threads can run lenet's arithmetic:

    BLAS       numpy's matrix products: one thread per call while lenet's passes run
    lenet's    one thread per core for the chunks of a large batch (run_on_cores)

Why BLAS gets one thread: BLAS's own threads wait for their next product by spinning. On a
machine that runs anything else (a second training, another notebook's kernel) a spinning
thread holds a core that the other program needs, and both programs slow down many times over.
lenet's threads sleep while they wait, and split the work where it is largest: the batch.

A user who sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS has decided for
themselves: lenet then leaves BLAS's threads as they are and runs as many chunk threads as the
cores hold beside them.
"""

import concurrent.futures
import contextlib
import os
import threading

from threadpoolctl import ThreadpoolController

__all__ = ["USER_SETTINGS", "user_decides", "core_count", "plan", "lenet_threads", "run_on_cores"]

# The environment variables with which a user decides BLAS's threads (OpenBLAS, OpenMP, MKL).
USER_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_lock = threading.Lock()  # guards the pool and the BLAS setting below
_pool, _pool_threads, _pool_pid = None, 0, None
_blas = None  # threadpoolctl's controllers of the BLAS libraries numpy loaded
_depth, _saved = 0, []  # passes running now; BLAS's thread counts from before the first


def user_decides():
    """True when the user set BLAS's threads in the environment (USER_SETTINGS)."""
    return any(os.environ.get(name, "").strip() for name in USER_SETTINGS)


def core_count():
    """Cores this process may run on (os.cpu_count() where the OS cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _blas_libraries():
    global _blas
    if _blas is None:  # the BLAS libraries loaded by now: numpy's
        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    return _blas


def plan():
    """{"blas": threads per matrix product, "chunks": lenet's threads} while lenet computes."""
    if not user_decides():
        return {"blas": 1, "chunks": core_count()}
    blas = max([lib.get_num_threads() or 1 for lib in _blas_libraries()] or [1])
    return {"blas": blas, "chunks": max(1, core_count() // blas)}


@contextlib.contextmanager
def lenet_threads():
    """Run the body with BLAS at plan()'s threads per call; the count before comes back after.

    Nested and concurrent uses (a training thread beside the notebook's) share one setting: the
    first to enter sets it, the last to leave restores it. Does nothing when the user decides.
    """
    global _depth, _saved
    if user_decides():
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
            for lib, threads in _saved:
                if threads != 1:
                    lib.set_num_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for lib, threads in _saved:
                    if threads != 1:
                        lib.set_num_threads(threads)


def _thread_pool(threads):
    """lenet's pool with at least `threads` threads (a forked child makes its own)."""
    global _pool, _pool_threads, _pool_pid
    with _lock:
        if _pool_pid != os.getpid():  # a forked child has none of its parent's threads
            _pool, _pool_threads, _pool_pid = None, 0, os.getpid()
        if _pool_threads < threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool_threads = threads
            _pool = concurrent.futures.ThreadPoolExecutor(threads, "lenet-core")
        return _pool


def run_on_cores(task, shares):
    """[task(share) for share in shares], with the shares on separate threads at once.

    The first share runs in the calling thread. Returns when every share has finished, even when
    one raised (then the first error in share order is raised). Call it inside lenet_threads().
    """
    if len(shares) == 1:
        return [task(shares[0])]
    pool = _thread_pool(len(shares) - 1)
    others = [pool.submit(task, share) for share in shares[1:]]
    try:
        first = task(shares[0])
    finally:
        concurrent.futures.wait(others)
    return [first] + [future.result() for future in others]
