"""The custom actions of the dialogue, run in-process (see bot/conversation/processor.py).

Rasa's rules decide which action runs; these actions do the work that needs the live
knowledge base, the desk hours or the conversation store. Replies go out as `BotUttered`
events, with texts from domain.yml where the text is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from rasa.core.actions.action import Action, create_bot_utterance
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.elsewhere import place_abroad
from bot.conversation.language import ANSWER_LANGUAGES
from bot.knowledge.answers import render_answer
from bot.knowledge.entries import Entry
from bot.knowledge.retrieval import Hit, Retriever
from bot.store import Store

# Retrieval scores (e5 similarity + 0.2 x n-gram score), calibrated on
# tests/data/eval_questions.yaml: knowledge questions score >= 0.92 at the 5th percentile,
# out-of-scope messages 0.87 at the median. Wrong first picks had a margin below 0.02.
NOTHING_CLOSE = 0.895
SURE_ENOUGH = 0.92
CLEAR_MARGIN = 0.015
CLARIFY_OPTIONS = 3
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}  # each in its own language


class Knowledge(Protocol):
    @property
    def retriever(self) -> Retriever: ...


@dataclass(frozen=True)
class Services:
    knowledge: Knowledge  # the live knowledge base (bot.knowledge.live.LiveKnowledge)
    store: Store  # also the clock: `store.clock()` is "now", replaceable in tests


def decide(hits: list[Hit]) -> str:
    """The `match` slot for a ranked search: answer, safety, clarify or none."""
    if not hits or hits[0].score < NOTHING_CLOSE:
        return "none"
    best = hits[0]
    if best.entry.is_safety:  # never a clarifying question when someone may be in danger
        return "safety"
    margin = best.score - hits[1].score if len(hits) > 1 else 1.0
    return "answer" if best.score >= SURE_ENOUGH and margin >= CLEAR_MARGIN else "clarify"


def _entity(tracker: DialogueStateTracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


async def _utter(name: str, nlg: NaturalLanguageGenerator, tracker: DialogueStateTracker,
                 output_channel: OutputChannel, **extra: Any) -> BotUttered:
    message = await nlg.generate(name, tracker, output_channel.name())
    return create_bot_utterance({**message, **extra})


class ServiceAction(Action):
    action_name = ""

    def __init__(self, services: Services):
        self.services = services

    def name(self) -> str:
        return self.action_name

    @property
    def retriever(self) -> Retriever:
        return self.services.knowledge.retriever

    def conversation_id(self, tracker: DialogueStateTracker) -> int:
        return int(tracker.sender_id)

    def slot_entry(self, tracker: DialogueStateTracker) -> Entry | None:
        return self.retriever.knowledge.by_id.get(tracker.get_slot("entry_id") or "")

    async def answer_events(self, entry: Entry, nlg: NaturalLanguageGenerator,
                            tracker: DialogueStateTracker, output_channel: OutputChannel) -> list[Event]:
        """The entry's answer in the answer language, plus a line when that is not theirs."""
        language = tracker.get_slot("language")
        knowledge = self.retriever.knowledge
        text = render_answer(entry, language, knowledge.desk_hours, self.services.store.clock())
        events: list[Event] = [BotUttered(text, metadata={"entry": entry.id})]
        if language == "en" and tracker.get_slot("user_language") not in ANSWER_LANGUAGES:
            events.append(await _utter("utter_english_only", nlg, tracker, output_channel))
        return events


class SearchKnowledge(ServiceAction):
    """Finds the entries for the question and sets `match` for the rules to act on."""

    action_name = "action_search_knowledge"

    async def run(self, output_channel, nlg, tracker, domain: Domain) -> list[Event]:
        chosen = self.retriever.knowledge.by_id.get(_entity(tracker, "entry_id") or "")
        if chosen:  # named by a button the newcomer pressed, or by the safety gate
            match = "safety" if chosen.is_safety else "answer"
            return [SlotSet("entry_id", chosen.id), SlotSet("confidence", 1.0),
                    SlotSet("candidates", [chosen.id]), SlotSet("match", match)]
        text = tracker.latest_message.text or ""
        hits = self.retriever.search(text, limit=CLARIFY_OPTIONS)
        # The classifier heard an emergency the safety gate did not: the safety entry among the
        # closest answers it; with none among them, it is an ordinary question.
        heard_safety = tracker.latest_message.intent.get("name") == "safety"
        safety_hit = next((hit for hit in hits if hit.entry.is_safety), None) if heard_safety else None
        best = safety_hit or (hits[0] if hits else None)
        match = "safety" if safety_hit else decide(hits)
        place = _place_abroad(text, best.entry) if best and match != "safety" else None
        return [
            SlotSet("entry_id", best.entry.id if best else None),
            SlotSet("confidence", round(best.score, 3) if best else 0.0),
            SlotSet("candidates", [hit.entry.id for hit in hits]),
            SlotSet("match", "elsewhere" if place else match),
            SlotSet("place", place),
        ]


def _place_abroad(text: str, best: Entry) -> str | None:
    """The place outside the Netherlands a question is about, unless the entry that comes
    closest speaks of it too (Amstelveen's Japan festival is not a question about Japan)."""
    place = place_abroad(text)
    if place is None:
        return None
    written = [*(local.title + " " + local.answer for local in best.texts.values()),
               *(q for questions in best.questions_by_language().values() for q in questions)]
    return None if place.casefold() in " ".join(written).casefold() else place


class Answer(ServiceAction):
    """The answer of the entry the search of this turn chose."""

    action_name = "action_answer"

    async def run(self, output_channel, nlg, tracker, domain) -> list[Event]:
        entry = self.slot_entry(tracker)
        if entry is None:  # removed from the knowledge base since the search
            return [await _utter("utter_cannot_help", nlg, tracker, output_channel)]
        return await self.answer_events(entry, nlg, tracker, output_channel)


class SafetyAnswer(Answer):
    """The same, for a safety entry: its own action, so the rules follow it with the offer of
    a volunteer instead of "did this help?"."""

    action_name = "action_safety_answer"


class Clarify(ServiceAction):
    action_name = "action_clarify"

    async def run(self, output_channel, nlg, tracker, domain) -> list[Event]:
        language = tracker.get_slot("language")
        by_id = self.retriever.knowledge.by_id
        entries = [by_id[i] for i in tracker.get_slot("candidates") or [] if i in by_id]
        buttons = [{"title": (e.texts.get(language) or e.texts["en"]).title,
                    "payload": f'/ask_question{{"entry_id": "{e.id}"}}'} for e in entries]
        none_of_these = await nlg.generate("utter_none_of_these", tracker, output_channel.name())
        buttons.append({"title": none_of_these["text"], "payload": "/deny"})
        return [await _utter("utter_clarify", nlg, tracker, output_channel, buttons=buttons)]


class Handover(ServiceAction):
    """Records the request for a volunteer with its context; the desk picks it up from the store."""

    action_name = "action_handover"

    async def run(self, output_channel, nlg, tracker, domain) -> list[Event]:
        store = self.services.store
        conversation_id = self.conversation_id(tracker)
        entry = self.slot_entry(tracker)
        store.open_handover(
            conversation_id,
            language=tracker.get_slot("user_language"),
            topic=entry.topic if entry else None,
            question=store.last_question(conversation_id),
            bot_answer=store.last_answer(conversation_id),
        )
        language = tracker.get_slot("language")
        desk = self.retriever.knowledge.desk_hours.status(self.services.store.clock()).describe(language)
        requested = await nlg.generate("utter_handover_requested", tracker, output_channel.name())
        return [create_bot_utterance({**requested, "text": f"{requested['text']} {desk}"})]


class ChangeLanguage(ServiceAction):
    action_name = "action_change_language"

    async def run(self, output_channel, nlg, tracker, domain) -> list[Event]:
        chosen = _entity(tracker, "language")
        if chosen not in ANSWER_LANGUAGES:
            # Built here: Rasa would read the {...} of these payloads in domain.yml as slot names.
            buttons = [{"title": title, "payload": f'/change_language{{"language": "{code}"}}'}
                       for code, title in LANGUAGE_NAMES.items()]
            return [await _utter("utter_choose_language", nlg, tracker, output_channel, buttons=buttons)]
        self.services.store.set_language(self.conversation_id(tracker), chosen=chosen)
        event = SlotSet("language", chosen)
        tracker.update(event)
        return [event, await _utter("utter_language_set", nlg, tracker, output_channel)]


class ForgetMe(ServiceAction):
    action_name = "action_forget_me"

    async def run(self, output_channel, nlg, tracker, domain) -> list[Event]:
        self.services.store.forget(self.conversation_id(tracker))
        return [await _utter("utter_data_erased", nlg, tracker, output_channel)]


ACTIONS = (SearchKnowledge, Answer, SafetyAnswer, Clarify, Handover, ChangeLanguage, ForgetMe)


def in_process_actions(services: Services) -> dict[str, Action]:
    return {cls.action_name: cls(services) for cls in ACTIONS}
