"""The kernel process's side of the kernel zygote (see :mod:`esus_runbook.batch.zygote` for
what the zygote is and the protocol): import what a batch kernel needs ONCE, then fork a
ready-to-start kernel for every request.

Run as ``python -m esus_runbook.batch.zygote.server REPLY_FD READY`` by
:class:`esus_runbook.batch.zygote.client.Zygote`, with the kernel spec's interpreter and
environment; never imported by the batch process. The heavy imports (:mod:`..warmup`:
IPython, ipykernel, pandas, the package and the stage modules, the chart stack) happen in
:func:`main`, after the environment they depend on is set.

The child, before running ipykernel exactly as ``ipykernel_launcher`` does, becomes a
session leader (the watcher kills its process group, as for any kernel), takes the requested
environment, working folder and ``sys.argv``, and gets a pipe nobody writes to as stdin;
stdout and stderr are the batch process's, as for a kernel started by jupyter_client.

Lifetime: the zygote reaps its children (SIGCHLD), exits when its stdin closes (the batch
process ended, even by ``kill -9``), and every kernel it forked has it as parent
(``JPY_PARENT_PID``): ipykernel's parent poller ends a kernel whose parent went away.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path


def _reap(signum, frame) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(request: dict, reply_fd: int) -> None:
    """Become the kernel (never returns)."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a new interpreter
        os.close(reply_fd)
        os.setsid()
        # stdin: a pipe nobody writes to, as jupyter_client gives a kernel (its write end
        # stays open in this process, so a read waits instead of seeing the end of input)
        read_end, _ = os.pipe()
        os.dup2(read_end, 0)
        os.close(read_end)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the kernel's stdin, for its life
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # this zygote: see the docstring
        # (the state fresh_start restores is recorded by the kernel's exec_lines, after
        # ipykernel set its own environment variables, as in a kernel started on its own)
        from ipykernel import kernelapp  # lazy: already imported by the warm-up, a lookup here

        sys.argv = [request["launcher"], *request["argv"]]
        kernelapp.IPKernelApp.launch_instance(argv=request["argv"])
        code = 0
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, then exit
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main(argv: list[str]) -> int:
    reply_fd, ready = int(argv[0]), argv[1]
    # as ipykernel_launcher does: the working folder out of sys.path while loading (ipykernel
    # puts "" back when the kernel initialises)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    # ipykernel reads JPY_PARENT_PID when kernelapp is imported: the kernels' parent is this
    # process, so it must be set before the import below
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    # Imported here, not at module level: the environment above must be set first, and
    # importing them is the whole point of this process (each one once, for every kernel).

    from .. import warmup  # lazy: IPython, pandas, the package, the stage modules

    try:
        warmup.warm_charts()
    except Exception:  # noqa: BLE001 - a kernel that draws charts loads what it needs
        pass

    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch process decides when it ends
    gc.collect()
    gc.freeze()  # the imported objects: never scanned again, their pages stay shared
    launcher = importlib.util.find_spec("ipykernel_launcher").origin  # what sys.argv[0] says
    reply = os.fdopen(reply_fd, "w", buffering=1, closefd=False)
    reply.write(ready + "\n")
    for line in sys.stdin:
        filters = warnings.filters[:]
        try:
            request = {**json.loads(line), "launcher": launcher}
            with warnings.catch_warnings():
                # Python ≥ 3.12 warns on every fork of a process with threads; the only
                # other thread here is the BLAS pool numpy starts, which re-initialises
                # itself in the child (pthread_atfork)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
                if pid == 0:
                    warnings.filters[:] = filters  # the kernel's, as in a new interpreter
                    reply.close()
                    _child(request, reply_fd)
        except Exception as exc:  # noqa: BLE001 - the batch process reports it
            reply.write("!" + " ".join(f"{exc.__class__.__name__}: {exc}".split()) + "\n")
            continue
        reply.write(f"{pid}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
