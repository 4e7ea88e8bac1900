"""What a newcomer hears when no volunteer has written within the patience time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.knowledge.desk_hours import DeskHours, DeskStatus
from bot.store import Handover, Store


@dataclass(frozen=True)
class Notice:
    handover: Handover
    response: str  # a response of domain.yml
    desk: DeskStatus | None  # to add to the response: when the desk opens again


def notices_due(store: Store, desk_hours: DeskHours, patience: dt.timedelta) -> list[Notice]:
    """One notice per handover that has waited longer than `patience` with no volunteer reply:
    "taking longer" while the desk is open (or its hours are unknown), else when it is back."""
    now = store.clock()
    status = desk_hours.status(now)
    away = status.known and not status.open_now
    response = "utter_handover_volunteers_away" if away else "utter_handover_taking_longer"
    desk = status if away else None
    return [Notice(handover, response, desk) for handover in store.unanswered_handovers(now - patience)]
