"""Worker processes: each holds its own engine and works on the inbox.

Several processes use both cores (one engine answers one message at a time); the inbox hands
a lane to one worker at a time, so a conversation is never in two workers at once. The
serving process supervises them: it waits until each is ready (or reports why it could not
start), and a worker that dies is started again, with the row it held given back.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bot.settings import Settings

log = logging.getLogger(__name__)
SUPERVISE_SECONDS = 1.0
PR_SET_PDEATHSIG = 1


class WorkerFailed(RuntimeError):
    pass


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the serving process dies (even by `kill -9`):
    an orphaned worker would go on taking rows that the next run hands out again."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _run(settings: Settings, name: str, send_notices_too: bool, ready: Connection) -> None:
    """A worker process: open the engine, say so, work until SIGTERM."""
    _die_with_parent()
    from bot.logging_setup import configure_logging

    configure_logging(settings.log_level)  # before the imports: they raise library deprecations
    from bot.conversation.engine import Engine
    from bot.queues import Inbox, Outbox
    from bot.router.router import Router, send_notices, work
    from bot.store import Store

    try:
        store = Store(settings.store_file)
        router = Router(Engine.open(settings, store), settings.handover_patience)
    except Exception as error:  # noqa: BLE001 - any failure to start is reported to the parent
        ready.send(f"{type(error).__name__}: {error}")
        raise
    ready.send("ready")

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        tasks = [work(Inbox(store.db), router, stop, name)]
        if send_notices_too:
            tasks.append(send_notices(router, Outbox(store.db), stop))
        await asyncio.gather(*tasks)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    asyncio.run(main())


@dataclass
class Worker:
    name: str
    process: multiprocessing.Process
    ready: Connection


class Workers:
    def __init__(self, settings: Settings, count: int):
        self.settings = settings
        self.count = count
        self._context = multiprocessing.get_context("spawn")  # no forked copies of loaded models
        self.workers: list[Worker] = []

    def _spawn(self, index: int) -> Worker:
        parent, child = self._context.Pipe(duplex=False)
        name = f"worker-{index}"
        process = self._context.Process(target=_run, args=(self.settings, name, index == 0, child),
                                        name=name, daemon=True)
        process.start()
        return Worker(name, process, parent)

    async def start(self) -> None:
        """Start every worker and wait until each has its engine open."""
        self.workers = [self._spawn(i) for i in range(self.count)]
        for worker in self.workers:
            await self._wait_ready(worker)

    async def _wait_ready(self, worker: Worker) -> None:
        try:
            answer = await asyncio.to_thread(worker.ready.recv)
        except EOFError:
            answer = f"exited with code {worker.process.exitcode}"
        if answer != "ready":
            raise WorkerFailed(answer)

    async def supervise(self, inbox, stop: asyncio.Event) -> None:
        """Start a worker again when it dies; the row it was working on is given back."""
        while not stop.is_set():
            await asyncio.sleep(SUPERVISE_SECONDS)
            for index, worker in enumerate(self.workers):
                if not worker.process.is_alive() and not stop.is_set():
                    log.error("%s died (exit code %s): starting it again", worker.name, worker.process.exitcode)
                    inbox.release(worker.name)
                    self.workers[index] = self._spawn(index)
                    await self._wait_ready(self.workers[index])

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(timeout=30)
            if worker.process.is_alive():
                worker.process.kill()
