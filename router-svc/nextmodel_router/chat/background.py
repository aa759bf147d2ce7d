"""Work a request leaves running after its answer (stores, releases, lease abandons, a cancelled
stream's settlement), held so a stopping router can wait for it (server.finish_requests)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, work: Coroutine) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def pending(self) -> set[asyncio.Task]:
        return {task for task in self._tasks if not task.done()}
