"""The conversation engine every channel uses: one message in, the replies and what was done out.

Per message, in this order: store it; detect the language; run the safety gate (trigger
phrases and the embedding match, before any classifier); then Rasa classifies the message
and its rules pick the actions. What the turn amounted to (answer, clarify, safety,
handover, smalltalk, fallback) is read back from the events Rasa logged.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.actions import Decision, Services, in_process_actions
from bot.conversation.decision import load_decision
from bot.conversation.dialogue_examples import DialogueExamples
from bot.conversation.elsewhere import load_places
from bot.conversation.language import (
    DEFAULT_LANGUAGE, LanguageDetector, answer_language, shared_vocabulary,
)
from bot.conversation.processor import InProcessActionsProcessor
from bot.conversation.replies import Button, Reply
from bot.conversation.safety import SafetyGate
from bot.knowledge.entries import Entry
from bot.conversation.training import latest_model
from bot.desk.cards import MESSAGE_LIMIT
from bot.embedding import Embedder
from bot.knowledge.live import LiveKnowledge, open_knowledge
from bot.knowledge.retrieval import MAX_QUERY_CHARS
from bot.settings import DIALOGUE_FILE, Settings
from bot.store import Conversation, Store

# Commands a newcomer can type, as the intents they stand for.
COMMANDS = {
    "/start": "/greet", "/help": "/greet", "/human": "/request_human",
    "/language": "/change_language", "/forget": "/forget_me",
}
FALLBACK_ACTIONS = {"utter_cannot_help", "utter_elsewhere", "utter_default",
                    "action_default_fallback"}


@dataclass(frozen=True)
class Turn:
    """One message handled: the replies, and the fields of `wegwijs ask --json`."""

    text: str
    language: str  # the language the newcomer wrote in (or the conversation's, if unclear)
    action: str  # answer, clarify, safety, handover, smalltalk, fallback
    topic: str | None
    entry: str | None
    confidence: float | None
    replies: tuple[Reply, ...] = ()
    latency_ms: float = 0.0
    conversation_id: int = 0
    handover_id: int | None = None  # set when this turn asked for a volunteer

    def as_json(self) -> str:
        fields = {name: getattr(self, name) for name in
                  ("text", "language", "action", "topic", "entry", "confidence")}
        fields["reply"] = "\n\n".join(reply.text for reply in self.replies)
        fields["latency_ms"] = round(self.latency_ms, 1)
        return json.dumps(fields, ensure_ascii=False)


class Engine:
    def __init__(self, model_path: Path, knowledge: LiveKnowledge, store: Store,
                 dialogue: DialogueExamples, decision: Decision):
        """The dialogue state is kept beside the store's file (in memory with the store's)."""
        self.knowledge = knowledge
        self.dialogue = dialogue
        self.store = store
        self.languages = LanguageDetector(shared_vocabulary(knowledge.retriever.knowledge))
        self.processor = InProcessActionsProcessor(
            model_path, in_process_actions(Services(knowledge, store, dialogue, decision)),
            store.path.with_name(DIALOGUE_FILE) if store.path else None)
        self.intents = set(self.processor.domain.intents)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._gate: tuple[object, SafetyGate] | None = None

    @property
    def safety_gate(self) -> SafetyGate:
        """The gate over the safety entries of the knowledge base in service."""
        retriever = self.knowledge.retriever
        if self._gate is None or self._gate[0] is not retriever:
            self._gate = (retriever, SafetyGate(retriever.entries, self.dialogue))
        return self._gate[1]

    @classmethod
    def open(cls, settings: Settings, store: Store, model_path: Path | None = None,
             decision: Decision | None = None) -> "Engine":
        """The engine over the settings' knowledge base and the newest trained model, with the
        decision layer fitted for that model unless `decision` is given."""
        model_path = model_path or latest_model(settings)
        decision = decision or load_decision(model_path)
        knowledge = open_knowledge(settings, Embedder.shared(settings.model)).start()
        dialogue = DialogueExamples.shared(settings.model, settings.cache_dir)
        load_places()
        return cls(model_path, knowledge, store, dialogue, decision)

    async def handle(self, channel: str, user_ref: str, text: str) -> Turn:
        """Handle one text message (or button payload) from a newcomer."""
        started = time.perf_counter()
        conversation = self.store.conversation(channel, user_ref)
        async with self._locks[conversation.id]:
            message_id = self.store.add_incoming(conversation.id, text)
            rasa_text, detected = self._understand(text)
            self.store.set_language(conversation.id, detected=detected)
            written = detected or conversation.language or DEFAULT_LANGUAGE
            slots = {"language": answer_language(written, conversation.chosen_language),
                     "user_language": written}
            tracker = await self.processor.handle(str(conversation.id), rasa_text, slots)
            events = _events_of_turn(tracker)
            turn = self._turn(text, written, events, tracker.latest_message.intent, conversation.id)
            if any(isinstance(e, ActionExecuted) and e.action_name == "action_forget_me" for e in events):
                self.processor.forget(str(conversation.id))
            else:
                self.store.record_outcome(message_id, turn.action, turn.entry, turn.confidence)
                for reply in turn.replies:
                    self.store.add_outgoing(conversation.id, reply.text)
        return _with_latency(turn, started)

    async def render(self, conversation: Conversation, response: str, **values: str) -> Reply:
        """A fixed response of domain.yml (`utter_...`) in the conversation's language, such
        as the notices a channel sends during a handover."""
        tracker = DialogueStateTracker.from_events(
            str(conversation.id),
            [SlotSet("language", self.answer_language(conversation)),
             SlotSet("user_language", conversation.language or DEFAULT_LANGUAGE)],
            slots=self.processor.domain.slots)
        message = await self.processor.nlg.generate(response, tracker, "wegwijs", **values)
        return _reply_from(message["text"], message.get("buttons"))

    @staticmethod
    def answer_language(conversation: Conversation) -> str:
        """English or Dutch: the one chosen, else the one last written in (English otherwise)."""
        return answer_language(conversation.language or DEFAULT_LANGUAGE, conversation.chosen_language)

    def _understand(self, text: str) -> tuple[str, str | None]:
        """The text for Rasa (a payload when the safety gate decides) and the language it is
        written in (None for a button or command, or when it cannot be told)."""
        text = "".join(ch for ch in text if ch.isprintable() or ch.isspace()).strip()
        if not text:  # nothing to read (spaces, control characters): the welcome and topics
            text = "/help"
        command = COMMANDS.get(text.split(" ")[0].lower()) if text.startswith("/") else None
        if command:
            text = command
        if text.startswith("/") and text[1:].split("{")[0] in self.intents:
            return text, None  # a button or command: no language in it
        text = text.lstrip("/")[-MAX_QUERY_CHARS:]  # the question is mostly at the end
        retriever = self.knowledge.retriever
        # The turn's two embeddings in one batch: retrieval's and the NLU featurizer's (the
        # message as written). A message naming the city: p95 latency 139 -> 113 ms.
        retriever.embedder.remember([retriever.embedded_text(text), text])
        match = self.safety_gate.check(text, retriever.search(text, limit=1))
        rasa_text = f'/safety{{"entry_id": "{match.entry.id}"}}' if match else text
        return rasa_text, self.languages.detect(text)

    def _turn(self, text: str, written: str, events: list, intent: dict, conversation_id: int) -> Turn:
        actions = [e.action_name for e in events if isinstance(e, ActionExecuted)]
        slots = {e.key: e.value for e in events if isinstance(e, SlotSet)}
        entry = self.knowledge.retriever.knowledge.by_id.get(slots.get("entry_id") or "")
        action = _outcome(actions, entry)
        about_entry = action in ("answer", "clarify", "safety")
        confidence = slots.get("confidence") if about_entry else intent.get("confidence")
        handover = self.store.active_handover(conversation_id) if action == "handover" else None
        return Turn(
            text=text, language=written, action=action,
            topic=entry.topic if about_entry and entry else None,
            entry=entry.id if about_entry and entry else None,
            confidence=round(float(confidence), 3) if confidence is not None else None,
            replies=_one_message([_reply(e) for e in events if isinstance(e, BotUttered)]),
            conversation_id=conversation_id,
            handover_id=handover.id if handover else None,
        )


def _events_of_turn(tracker: DialogueStateTracker) -> list:
    """The events after the newcomer's latest message: what the assistant did with it."""
    events = list(tracker.events)
    last_user = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
    return events[last_user + 1:]


def _outcome(actions: list[str], entry: Entry | None) -> str:
    if "action_safety_answer" in actions or ("action_answer" in actions and entry and entry.is_safety):
        return "safety"
    for action, outcome in (("action_answer", "answer"), ("action_clarify", "clarify"),
                            ("action_handover", "handover")):
        if action in actions:
            return outcome
    return "fallback" if FALLBACK_ACTIONS & set(actions) else "smalltalk"


def _one_message(replies: list[Reply]) -> tuple[Reply, ...]:
    """The turn's replies as one message, when they fit in one: an answer, its language note and
    "Did this help?" arrive together. The last reply's buttons come first: they answer the
    question the message ends with (Yes / No), the related entries follow."""
    text = "\n\n".join(reply.text for reply in replies if reply.text)
    if len(replies) < 2 or len(text) > MESSAGE_LIMIT:
        return tuple(replies)
    buttons = tuple(button for reply in reversed(replies) for button in reply.buttons)
    return (Reply(text, buttons),)


def _reply(event: BotUttered) -> Reply:
    return _reply_from(event.text, event.data.get("buttons"))


def _reply_from(text: str | None, buttons: list[dict] | None) -> Reply:
    return Reply(text or "", tuple(Button(b["title"], b["payload"]) for b in buttons or []))


def _with_latency(turn: Turn, started: float) -> Turn:
    return replace(turn, latency_ms=(time.perf_counter() - started) * 1000)
