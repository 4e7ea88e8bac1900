"""A console conversation over the full pipeline: what `make run` starts with no tokens set."""

from __future__ import annotations

import asyncio

import click

from bot.conversation.engine import Engine, Turn

CHANNEL = "console"
USER = "local"


def show(turn: Turn) -> list[str]:
    """Print the replies; returns the button payloads, which the user can pick by number."""
    payloads = []
    for reply in turn.replies:
        click.echo(click.style(reply.text, fg="cyan"))
        for button in reply.buttons:
            payloads.append(button.payload)
            click.echo(click.style(f"  [{len(payloads)}] {button.title}", fg="cyan"))
    if turn.handover_id:
        click.echo(click.style(
            f"[desk] handover #{turn.handover_id} recorded in the store; on Telegram this opens "
            f"a topic in the volunteers' desk group (see the README)", fg="yellow"))
    return payloads


async def run_console(engine: Engine) -> None:
    click.echo("Wegwijs console chat. Write a message, a button number, or Ctrl-D to stop.")
    payloads = show(await engine.handle(CHANNEL, USER, "/start"))
    while True:
        try:
            text = await asyncio.to_thread(input, "> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if text.strip().isdigit() and 0 < int(text) <= len(payloads):
            text = payloads[int(text) - 1]
        if text.strip():
            payloads = show(await engine.handle(CHANNEL, USER, text))
