"""Running the shares of one training step on the CPU's cores at once, one thread each.

numpy releases Python's lock (the GIL) inside most array operations, so threads that work on
separate arrays run at the same time. Matrix products need one more thing: BLAS must use one
thread per call while they run, or the cores are oversubscribed (measured: an epoch at batch
256 took 1.9 s instead of 1.1 s, slower than one share after another). The BLAS limit is
process-wide, so only one step at a time runs its shares in parallel; other callers wait for it.
"""

import concurrent.futures
import os
import threading

from threadpoolctl import ThreadpoolController

__all__ = ["core_count", "run_on_cores"]

_lock = threading.Lock()
_pool, _pool_threads, _pool_pid = None, 0, None
_blas = None


def core_count():
    """Cores this process may run on (os.cpu_count() where the OS cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_on_cores(task, shares):
    """[task(share) for share in shares], with the shares on separate threads at once.

    The first share runs in the calling thread. Returns when every share has finished, even when
    one raised (then the first error in share order is raised); BLAS's thread count is restored.
    """
    global _pool, _pool_threads, _pool_pid, _blas
    if len(shares) == 1:
        return [task(shares[0])]
    with _lock:
        if _pool_pid != os.getpid():  # a forked child has none of its parent's threads
            _pool, _pool_threads, _pool_pid = None, 0, os.getpid()
        if _pool_threads < len(shares) - 1:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool_threads = len(shares) - 1
            _pool = concurrent.futures.ThreadPoolExecutor(_pool_threads, "lenet-core")
        if _blas is None:  # the BLAS libraries loaded by now: numpy's
            _blas = ThreadpoolController()
        with _blas.limit(limits=1, user_api="blas"):
            others = [_pool.submit(task, share) for share in shares[1:]]
            try:
                first = task(shares[0])
            finally:
                concurrent.futures.wait(others)
            return [first] + [future.result() for future in others]
