"""`wegwijs bench load`: the real `wegwijs serve` under load from simulated newcomers.

The fake Telegram Bot API (bot/bench/fake_telegram.py) runs in this process; `wegwijs serve`
runs as a child process polling it, with its own data folder. Each newcomer is a thread with
its own private chat: it asks a question, waits for the bot's first message to its chat (at
most ANSWER_TIMEOUT seconds, else the question is lost), pauses, and asks the next one. Times
come from the fake's clock (time.monotonic() in this process), so time to answer is from the
push of the update to the moment the fake answered the bot's sendMessage.

A reply belongs to the question asked last in its chat, except a word-for-word repeat of a
message the chat got in reply to the question before: that is the earlier reply delivered
again (after a restart, say), so it counts as a duplicate of the earlier question, and the
newcomer keeps waiting for a real answer. This needs different questions to get different
answers: each line of questions.txt asks about a different knowledge entry, and a newcomer
asks consecutive lines. A reply arriving after the newcomer gave up on a question (and asked
the next one) counts for the next one.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.bench.fake_telegram import FakeBotApi, private_text
from bot.knowledge.live import INDEX_FILE

QUESTIONS_FILE = Path(__file__).with_name("questions.txt")
DESK_CHAT_ID = -1001234567890
FIRST_CHAT_ID = 900_000_001  # newcomer i chats from FIRST_CHAT_ID + i
PROBE_CHAT_ID = 800_000_000  # the chats that check the server answers after each start
ANSWER_TIMEOUT = 60.0  # seconds a newcomer waits for an answer before counting the question lost
QUIET_SECONDS = 5.0  # after the last question: no new message for this long ends the run
READY_TIMEOUT = 300.0  # seconds for the server to answer after a start
SAMPLE_SECONDS = 0.5  # memory sampling interval
JITTER = 0.1  # the pause varies by up to this share either way
FLOOD_SAFE_PAUSE = 1.3  # the server's flood guard holds a 9th message within 10 s
FAULT_RATES = {"rate_429": 0.10, "rate_5xx": 0.05}  # --faults

Log = Callable[[str], None]


@dataclass
class LoadOptions:
    newcomers: int = 100
    questions_per_newcomer: int = 10
    pause: float = 2.0  # seconds between an answer and the next question
    kill_after: int | None = None  # kill -9 and restart the server after this many answers
    faults: bool = False  # inject 429s and 5xx on the bot's sending calls
    questions_file: Path = QUESTIONS_FILE
    index_source: Path | None = None  # a data folder holding the knowledge index to start from
    seed: int | None = None


@dataclass
class Question:
    """One question a newcomer asked, and when (time.monotonic())."""

    chat_id: int
    text: str
    asked_at: float


@dataclass
class Outcome:
    """What the bot did about one question: the messages sent to its chat until the next question."""

    question: Question
    replies: list[str]
    first_reply_at: float | None

    @property
    def answered(self) -> bool:
        return (self.first_reply_at is not None
                and self.first_reply_at - self.question.asked_at <= ANSWER_TIMEOUT)

    @property
    def duplicates(self) -> int:
        """Messages whose text this chat already got in reply to the same question."""
        return sum(count - 1 for count in Counter(self.replies).values())


@dataclass
class LoadReport:
    """The figures of a run. Times to answer are over answered questions; `ready_in_seconds` is
    from each start of the server to its answer to a first message (it receives before its
    workers have loaded, but ready means able to answer)."""

    newcomers: int
    questions: int
    answered: int
    wall_seconds: float
    answered_per_second: float
    time_to_answer_ms: dict[str, float | None]
    lost: int
    duplicated: int
    replies_per_answer: float | None
    peak_memory_mib: float
    ready_in_seconds: list[float]
    server_log_errors: int
    server_log_error_samples: list[str] = field(default_factory=list)
    faults_injected: int | None = None

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    def lines(self) -> str:
        """The report as plain aligned lines."""
        ms = self.time_to_answer_ms
        rows = [
            ("newcomers", f"{self.newcomers}"),
            ("questions", f"{self.questions}"),
            ("answered", f"{self.answered}"),
            ("answered per second", f"{self.answered_per_second:.2f}  "
                                    f"({self.answered} in {self.wall_seconds:.1f} s)"),
            *[(f"time to answer {p}", "-" if ms[p] is None else f"{ms[p]:.0f} ms") for p in ms],
            ("lost", f"{self.lost}"),
            ("duplicated", f"{self.duplicated}"),
            ("replies per answer", "-" if self.replies_per_answer is None else f"{self.replies_per_answer:.2f}"),
            ("peak memory", f"{self.peak_memory_mib:.0f} MiB  (server process tree)"),
            ("server ready in", _seconds(self.ready_in_seconds)),
            ("errors in server log", f"{self.server_log_errors}"),
        ]
        if self.faults_injected is not None:
            rows.append(("faults injected", f"{self.faults_injected}"))
        width = max(len(name) for name, _ in rows) + 2
        text = "\n".join(f"{name:<{width}}{value}" for name, value in rows)
        return text + "".join(f"\n  {line}" for line in self.server_log_error_samples)


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.1f} s" for value in values)


# -- the questions ---------------------------------------------------------------------------------

def load_questions(path: Path = QUESTIONS_FILE) -> list[str]:
    """The non-empty lines of a questions file."""
    questions = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not questions:
        raise ValueError(f"{path} has no questions")
    return questions


# -- the server process ----------------------------------------------------------------------------

def wegwijs_command() -> list[str]:
    """The `wegwijs` console script of this Python environment."""
    script = Path(sys.executable).parent / "wegwijs"
    return [str(script) if script.exists() else shutil.which("wegwijs") or "wegwijs"]


def fresh_data_dir(work_dir: Path, index_source: Path | None) -> Path:
    """An empty data folder for the server, with a copy of the knowledge index when there is one."""
    data_dir = work_dir / "data"
    data_dir.mkdir(parents=True)
    if index_source is not None and (index_source / INDEX_FILE).is_file():
        shutil.copy(index_source / INDEX_FILE, data_dir)
    return data_dir


def server_environment(api: FakeBotApi, data_dir: Path) -> dict[str, str]:
    """This environment without its Telegram settings, pointed at the fake Bot API and `data_dir`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELEGRAM_")}
    return env | {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
                  "TELEGRAM_DESK_CHAT_ID": str(DESK_CHAT_ID), "WEGWIJS_DATA_DIR": str(data_dir),
                  "OMP_NUM_THREADS": "1"}


class Server:
    """`wegwijs serve` as a child process in its own session, its output appended to `log_path`."""

    def __init__(self, api: FakeBotApi, data_dir: Path, log_path: Path):
        self.api, self.data_dir, self.log_path = api, data_dir, log_path
        self.process: subprocess.Popen | None = None
        self.ready_in: list[float] = []  # seconds from spawn to the answer to a first message, per start

    def start(self) -> float:
        """Spawn the server and wait until it answers (a `/start` from a chat of its own);
        returns the seconds that took."""
        spawned = time.monotonic()
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(wegwijs_command() + ["serve"], stdout=log, stderr=subprocess.STDOUT,
                                            env=server_environment(self.api, self.data_dir), start_new_session=True)
        probe = PROBE_CHAT_ID - len(self.ready_in)
        self.api.push(private_text(probe, "/start"))
        while (answer := self.api.wait_sent_to(probe, spawned, timeout=1.0)) is None:
            if self.process.poll() is not None or time.monotonic() - spawned > READY_TIMEOUT:
                self.stop()
                raise RuntimeError(f"wegwijs serve did not start answering:\n{self.log_tail()}")
        self.ready_in.append(answer.at - spawned)
        return self.ready_in[-1]

    def kill(self) -> None:
        """kill -9 the server's whole process group."""
        self._signal_group(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def log_errors(log_path: Path) -> list[str]:
    """The lines of the server log containing "ERROR" or "Traceback"."""
    if not log_path.exists():
        return []
    return [line.rstrip() for line in log_path.read_text(errors="replace").splitlines()
            if "ERROR" in line or "Traceback" in line]


# -- memory --------------------------------------------------------------------------------------

def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        parent = int(stat[stat.rindex(")") + 2:].split()[1])  # the fields after "(comm)": state, ppid
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 when it has ended or has none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class MemorySampler:
    """Samples the resident memory of the server's process tree every SAMPLE_SECONDS; keeps the peak."""

    def __init__(self, server: Server):
        self.server = server
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            process = self.server.process
            if process is not None and process.poll() is None:
                self.peak_kib = max(self.peak_kib, sum(rss_kib(pid) for pid in process_tree(process.pid)))


# -- the newcomers ---------------------------------------------------------------------------------

class AnswerCounter:
    """Counts answers across newcomers and calls `at_count` once, when the count reaches `target`."""

    def __init__(self, target: int | None, at_count: Callable[[], None]):
        self.target, self.at_count = target, at_count
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1
            reached = self.count == self.target
        if reached:
            self.at_count()


def ask_questions(api: FakeBotApi, chat_id: int, questions: list[str], pause: float,
                  rng: random.Random, answers: AnswerCounter) -> list[Question]:
    """One newcomer, closed loop: ask, wait for the first reply (or ANSWER_TIMEOUT), pause, ask again.
    A repeat of a message received since the previous question is not taken for an answer."""
    asked: list[Question] = []
    for text in questions:
        previous: set[str | None] = set()  # what the chat got since the previous question
        if asked:
            time.sleep(pause * rng.uniform(1 - JITTER, 1 + JITTER))
            previous = {call.params.get("text") for call in api.sent_to(chat_id) if call.at >= asked[-1].asked_at}
        asked.append(Question(chat_id, text, time.monotonic()))
        api.push(private_text(chat_id, text, first_name=f"Newcomer{chat_id - FIRST_CHAT_ID + 1}"))
        if api.wait_sent_to(chat_id, asked[-1].asked_at, ANSWER_TIMEOUT,
                            lambda call: call.params.get("text") not in previous) is not None:
            answers.add()
    return asked


def drive(api: FakeBotApi, questions: list[str], options: LoadOptions, answers: AnswerCounter,
          rng: random.Random) -> tuple[list[Question], float]:
    """All newcomers at once, each starting within one pause; returns their questions and the
    wall time from the start until the last newcomer is done."""
    results: list[list[Question]] = [[] for _ in range(options.newcomers)]

    def newcomer(i: int, newcomer_rng: random.Random) -> None:
        time.sleep(newcomer_rng.uniform(0, options.pause))  # do not all arrive in the same instant
        start = newcomer_rng.randrange(len(questions))
        own = [questions[(start + k) % len(questions)] for k in range(options.questions_per_newcomer)]
        results[i] = ask_questions(api, FIRST_CHAT_ID + i, own, options.pause, newcomer_rng, answers)

    threads = [threading.Thread(target=newcomer, args=(i, random.Random(rng.random())), name=f"newcomer-{i}")
               for i in range(options.newcomers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [question for asked in results for question in asked], time.monotonic() - started


def wait_until_quiet(api: FakeBotApi, chat_ids: set[int], quiet: float = QUIET_SECONDS) -> None:
    """Return once no message went to these chats for `quiet` seconds."""
    since = time.monotonic()
    while True:
        last = max((sent[-1].at for chat in chat_ids if (sent := api.sent_to(chat))), default=since)
        remaining = max(last, since) + quiet - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(remaining, SAMPLE_SECONDS))


# -- the figures -----------------------------------------------------------------------------------

def outcomes(api: FakeBotApi, asked: list[Question]) -> list[Outcome]:
    """Each question with the messages its chat got from when it was asked until the next question;
    a repeat of a message of the window before goes to the question that window belongs to."""
    by_chat: dict[int, list[Question]] = {}
    for question in asked:
        by_chat.setdefault(question.chat_id, []).append(question)
    result = []
    for chat_id, questions in by_chat.items():
        sent = [call for call in api.sent_to(chat_id) if call.method == "sendMessage"]
        ends = [q.asked_at for q in questions[1:]] + [math.inf]
        earlier: dict[str, Outcome] = {}  # the texts of the previous window, and whose replies they are
        for question, end in zip(questions, ends):
            outcome, window = Outcome(question, [], None), {}
            for call in (call for call in sent if question.asked_at <= call.at < end):
                text = call.params.get("text", "")
                owner = window[text] = earlier.get(text, outcome)
                owner.replies.append(text)
                if owner is outcome and outcome.first_reply_at is None:
                    outcome.first_reply_at = call.at
            earlier = window
            result.append(outcome)
    return result


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0-100), interpolated between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(options: LoadOptions, results: list[Outcome], wall_seconds: float, server: Server,
              peak_kib: int, faults_injected: int | None) -> LoadReport:
    """The figures of a run."""
    answered = [o for o in results if o.answered]
    latencies = [(o.first_reply_at - o.question.asked_at) * 1000 for o in answered]
    replies = sum(len(o.replies) for o in results)
    errors = log_errors(server.log_path)
    return LoadReport(
        newcomers=options.newcomers, questions=len(results), answered=len(answered),
        wall_seconds=round(wall_seconds, 2),
        answered_per_second=round(len(answered) / wall_seconds, 3) if wall_seconds else 0.0,
        time_to_answer_ms={f"p{p}": None if (v := percentile(latencies, p)) is None else round(v, 1)
                           for p in (50, 95, 99)},
        lost=len(results) - len(answered), duplicated=sum(o.duplicates for o in results),
        replies_per_answer=round(replies / len(answered), 3) if answered else None,
        peak_memory_mib=round(peak_kib / 1024, 1), ready_in_seconds=[round(s, 1) for s in server.ready_in],
        server_log_errors=len(errors), server_log_error_samples=list(dict.fromkeys(errors))[:3],
        faults_injected=faults_injected)


# -- the run ---------------------------------------------------------------------------------------

def restart(server: Server, log: Log) -> None:
    """kill -9 the server and start it again on the same data folder."""
    log("killing the server (kill -9)")
    server.kill()
    log(f"server ready again in {server.start():.1f} s")


def run_load(options: LoadOptions, log: Log = lambda message: None, work_dir: Path | None = None) -> LoadReport:
    """Start the fake Bot API and the server, drive the newcomers, and report. The server's data
    folder and log live in `work_dir` (a temporary folder, removed afterwards, when None)."""
    if options.pause * (1 - JITTER) <= FLOOD_SAFE_PAUSE:
        log(f"warning: a pause of {options.pause} s may trip the server's flood guard (8 messages in 10 s)")
    questions = load_questions(options.questions_file)
    rng = random.Random(options.seed)
    with tempfile.TemporaryDirectory(prefix="wegwijs-bench-") as temporary, FakeBotApi() as api:
        work = Path(work_dir or temporary)
        server = Server(api, fresh_data_dir(work, options.index_source), work / "serve.log")
        restarts: list[threading.Thread] = []
        restart_errors: list[Exception] = []

        def restart_in_background() -> None:
            try:
                restart(server, log)
            except Exception as error:  # raised in the run's own thread, once the newcomers are done
                restart_errors.append(error)

        def kill_and_restart() -> None:
            restarts.append(threading.Thread(target=restart_in_background, name="restart"))
            restarts[-1].start()

        try:
            with MemorySampler(server) as memory:
                log("starting wegwijs serve...")
                log(f"server ready in {server.start():.1f} s")
                if options.faults:
                    api.inject_faults(**FAULT_RATES, seed=rng.randrange(2**32))
                answers = AnswerCounter(options.kill_after, kill_and_restart)
                log(f"{options.newcomers} newcomers asking {options.questions_per_newcomer} questions each...")
                asked, wall = drive(api, questions, options, answers, rng)
                for thread in restarts:
                    thread.join()
                if restart_errors:
                    raise restart_errors[0]
                log("waiting until no more replies come...")
                wait_until_quiet(api, {q.chat_id for q in asked})
                results = outcomes(api, asked)
        finally:
            server.stop()
        return summarize(options, results, wall, server, memory.peak_kib,
                         api.faults_injected if options.faults else None)
