"""What the assistant sends: a text with its buttons. Kept apart from the engine so that the
serving process, which only routes and delivers replies, never imports Rasa."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    title: str
    payload: str  # sent back as the message text when pressed


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
