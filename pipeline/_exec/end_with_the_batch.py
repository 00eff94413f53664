"""Imported by the fork server alone (executor.start_fork_server): every worker forked from it ends as soon as
the batch process that started the fork server is gone.

Killed (kill -9, the OOM killer), a batch used to leave its pool behind. Each worker holds the task queue's pipe
open itself, so it never learns that no task will come; the fork server lives while any worker does; and a
worker went on reading its page into the archive's work folder while the rerun cleaned that folder out. So,
right after each fork, the new worker starts a thread that waits on the batch's process handle (a pidfd) and
ends the worker when it fires: before the worker has read anything from its parent, so a batch killed while
its workers start leaves none either. Needs Linux 5.3 or later; elsewhere workers outlive a killed batch.
"""

from __future__ import annotations

import os
import select
import threading

# The batch's pid, as it set it before starting the fork server: not os.getppid(), which is already 1 (or a
# subreaper) when the batch was killed while the fork server was still starting.
_BATCH = int(os.environ.get("RETRODIG_BATCH_PID") or os.getppid())  # executor.BATCH_PID (not imported: this
# module is for the fork server alone, and importing it elsewhere would arm its fork hook there)


def _end_with_the_batch() -> None:
    try:
        handle = os.pidfd_open(_BATCH)
    except ProcessLookupError:  # the batch is gone already
        os._exit(1)
    except (AttributeError, OSError):  # not Linux 5.3 or later
        return

    def wait() -> None:
        select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=wait, name="end-with-the-batch", daemon=True).start()


os.register_at_fork(after_in_child=_end_with_the_batch)
