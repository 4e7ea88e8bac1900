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

from bot.conversation.asking import asking_part
from bot.conversation.decision import Evidence, runner_up_elsewhere
from bot.conversation.dialogue_examples import DialogueExamples
from bot.conversation.elsewhere import place_asked_about
from bot.conversation.language import ANSWER_LANGUAGES
from bot.knowledge.answers import render_answer
from bot.knowledge.entries import Entry
from bot.knowledge.retrieval import Hit, Retriever
from bot.privacy import erase_conversation
from bot.store import Store

CLARIFY_OPTIONS = 3
RELATED_MARGIN = 0.03  # an entry of the answer's topic this close to it is offered as related
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}  # each in its own language


class Knowledge(Protocol):
    @property
    def retriever(self) -> Retriever: ...


class Decision(Protocol):
    def decide(self, evidence: Evidence) -> str: ...


@dataclass(frozen=True)
class Services:
    knowledge: Knowledge  # the live knowledge base (bot.knowledge.live.LiveKnowledge)
    store: Store  # also the clock: `store.clock()` is "now", replaceable in tests
    dialogue: DialogueExamples
    decision: Decision  # bot.conversation.decision: answer, clarify, decline or handover


def match_for(decision: str, hits: tuple[Hit, ...]) -> tuple[str, Hit, list[Hit]]:
    """The `match` slot for a decision on a ranked search, the entry it is about, and the
    entries to offer with it: the options of a clarifying question (one per topic), or the
    related entries under an answer (same topic, close). A clarifying question is asked only
    when the runner-up is about something else: between two entries about the same thing,
    the best one is answered and the other offered as related."""
    best = hits[0]
    if decision == "safety":
        return "safety", next((hit for hit in hits if hit.entry.is_safety), best), []
    if decision in ("answer", "clarify") and best.entry.is_safety:
        return "safety", best, []  # never a clarifying question when someone may be in danger
    if decision == "clarify" and runner_up_elsewhere(hits):
        options = list({hit.entry.topic: hit for hit in reversed(hits[:CLARIFY_OPTIONS])}.values())[::-1]
        return "clarify", best, options
    if decision == "clarify":
        decision = "answer"  # the runner-up is about the same thing
    if decision == "answer":
        return "answer", best, [hit for hit in hits[1:CLARIFY_OPTIONS] if hit.entry.topic == best.entry.topic
                                and hit.score >= best.score - RELATED_MARGIN]
    return {"decline": "none", "handover": "handover"}[decision], best, []


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

    def candidates(self, tracker: DialogueStateTracker) -> list[Entry]:
        by_id = self.retriever.knowledge.by_id
        return [by_id[i] for i in tracker.get_slot("candidates") or [] if i in by_id]

    async def answer_events(self, entry: Entry, nlg: NaturalLanguageGenerator,
                            tracker: DialogueStateTracker, output_channel: OutputChannel) -> list[Event]:
        """The entry's answer in the answer language, with the related entries as buttons, plus
        a line when that language is not theirs."""
        language = tracker.get_slot("language")
        knowledge = self.retriever.knowledge
        text = render_answer(entry, language, knowledge.desk_hours, self.services.store.clock())
        related = [_entry_button(other, language) for other in self.candidates(tracker) if other != entry]
        events: list[Event] = [BotUttered(text, data={"buttons": related} if related else {},
                                          metadata={"entry": entry.id})]
        if language == "en" and tracker.get_slot("user_language") not in ANSWER_LANGUAGES:
            events.append(await _utter("utter_english_only", nlg, tracker, output_channel))
        return events


def _entry_button(entry: Entry, language: str) -> dict[str, str]:
    """A button that answers `entry` when pressed."""
    return {"title": (entry.texts.get(language) or entry.texts["en"]).title,
            "payload": f'/ask_question{{"entry_id": "{entry.id}"}}'}


class SearchKnowledge(ServiceAction):
    """Finds the entries for the question and sets `match` for the rules to act on."""

    action_name = "action_search_knowledge"

    async def run(self, output_channel, nlg, tracker, domain: Domain) -> list[Event]:
        chosen = self.retriever.knowledge.by_id.get(_entity(tracker, "entry_id") or "")
        if chosen:  # named by a button the newcomer pressed, or by the safety gate
            match = "safety" if chosen.is_safety else "answer"
            return [SlotSet("entry_id", chosen.id), SlotSet("confidence", 1.0),
                    SlotSet("candidates", []), SlotSet("match", match)]
        message = tracker.latest_message
        text = message.text or ""
        evidence = Evidence.gather(text, message.parse_data, tracker.get_slot("user_language"),
                                   self.retriever, self.services.dialogue)
        decision = "safety" if evidence.heard_safety else self.services.decision.decide(evidence)
        match, best, offered = match_for(decision, evidence.hits)
        place = place_asked_about(asking_part(text), best.entry) if match in ("answer", "clarify", "none") else None
        return [
            SlotSet("entry_id", best.entry.id),
            SlotSet("confidence", round(best.score, 3)),
            SlotSet("candidates", [hit.entry.id for hit in offered]),
            SlotSet("match", "elsewhere" if place else match),
            SlotSet("place", place),
        ]


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
        buttons = [_entry_button(entry, language) for entry in self.candidates(tracker)]
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
        store = self.services.store
        erase_conversation(store, store.conversation_with_id(self.conversation_id(tracker)))
        return [await _utter("utter_data_erased", nlg, tracker, output_channel)]


ACTIONS = (SearchKnowledge, Answer, SafetyAnswer, Clarify, Handover, ChangeLanguage, ForgetMe)


def in_process_actions(services: Services) -> dict[str, Action]:
    return {cls.action_name: cls(services) for cls in ACTIONS}
