"""Conversations in English and Dutch through the whole engine: the real trained Rasa model,
the real multilingual model, the shipped knowledge base and a real SQLite store.

Every path of stories/rules.yml is walked here: welcome menu, answer + "did this help?",
clarify, nothing close, out of scope, handover (desk closed and open), safety, another
language, change of language, forget me and small talk.
"""

from __future__ import annotations

import re

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.knowledge.answers import render_answer
from bot.knowledge.base import load_knowledge
from tests.conversation_fixtures import (
    TUESDAY_MORNING, TUESDAY_NIGHT, Newcomer, button_titles, make_engine, reply_text,
)
from tests.knowledge_fixtures import SHIPPED, copy_shipped

# Close calls for the decision layer of the trained model (the first from issue 12). Which of
# the cross-topic ones it asks about moves a little with each refit, so the tests take the
# first it asks about (in English or Dutch); it must ask about at least one.
SAME_TOPIC_CLOSE_CALL = "how can I find a huisarts near me?"
CROSS_TOPIC_CLOSE_CALLS = [
    "I speak good dutch and would like to help someone learn it as a volunteer",
    "I'm fluent in Dutch and would like to help others learn it as a volunteer",
    "taalcoach",
    "kids are 7 and 10, need school for them here, where do i start",
    "changing jobs next month, does my kennismigrant permit need to change too?",
    "how do i get a doctor here",
    "me new in holland. need number for work. where i get?",
    "starting out as a freelancer, is there any support?",
    "hoe kom ik aan een huisats",
    "er ligt een losse stoeptegel voor mijn deur, waar meld ik dat",
]
OPEN_TUESDAY_MORNINGS = """\
verified: true
weekly:
  tuesday: ["09:00-12:00"]
exceptions: []
location:
  en: the public hall
  nl: de publiekshal
"""


@pytest.fixture(scope="session")
def engine(trained_model, embedder, shared_data_dir):
    return make_engine(trained_model, SHIPPED, shared_data_dir, embedder)


@pytest.fixture(scope="session")
def shipped():
    return load_knowledge(SHIPPED).knowledge


def newcomer(engine, request) -> Newcomer:
    return Newcomer(engine, request.node.name)


async def test_start_shows_welcome_and_topic_menu(engine, request):
    turn = await newcomer(engine, request).say("/start")
    assert turn.action == "smalltalk"
    assert "Wegwijs" in reply_text(turn)
    assert button_titles(turn) == ["Find a GP (huisarts)", "School advice (CIL)", "Learn Dutch",
                                   "Volunteering", "The international desk", "Talk to a volunteer"]


async def test_dutch_greeting_gets_dutch_menu_whose_buttons_answer_their_topic(engine, request):
    person = newcomer(engine, request)
    turn = await person.say("Goedemorgen, ik ben net verhuisd naar Amstelveen")
    assert "Stel uw vraag" in reply_text(turn)
    expected = {"Een huisarts vinden": "gp", "Schooladvies (CIL)": "school",
                "Nederlands leren": "dutch_lessons", "Vrijwilligerswerk": "volunteering",
                "De international desk": "international_desk"}
    for title, topic in expected.items():
        await person.say("hallo")
        turn = await person.press(title)
        assert (turn.action, turn.topic, turn.language) == ("answer", topic, "nl"), title


async def test_english_question_gets_one_message_the_answer_with_source_and_feedback_buttons(
        engine, request, shipped):
    turn = await newcomer(engine, request).say("how can I sign up with a family doctor?")
    entry = shipped.by_id[turn.entry]
    assert (turn.action, turn.topic, turn.language) == ("answer", "gp", "en")
    (message,) = turn.replies
    assert message.text == render_answer(entry, "en", shipped.desk_hours, TUESDAY_MORNING) + "\n\nDid this help?"
    assert all(link in message.text for link in entry.links)
    assert [button.title for button in message.buttons][:2] == ["Yes", "No"]


async def test_dutch_question_gets_the_dutch_answer(engine, request, shipped):
    turn = await newcomer(engine, request).say("Waar kan ik Nederlandse les volgen?")
    assert (turn.action, turn.topic, turn.language) == ("answer", "dutch_lessons", "nl")
    entry = shipped.by_id[turn.entry]
    (message,) = turn.replies
    assert message.text == render_answer(entry, "nl", shipped.desk_hours, TUESDAY_MORNING) + "\n\nHeeft dit geholpen?"


async def test_helpful_answer_is_acknowledged(engine, request):
    person = newcomer(engine, request)
    await person.say("how do I register at the municipality when I arrive?")
    turn = await person.press("Yes")
    assert turn.action == "smalltalk" and "Good to hear" in reply_text(turn)


async def test_unhelpful_answer_leads_to_a_volunteer_with_the_question_in_the_store(engine, request):
    person = newcomer(engine, request)
    question = "mijn huisarts neemt geen nieuwe patiënten aan, wat nu?"
    answered = await person.say(question)
    offer = await person.press("Nee")
    assert "vrijwilliger" in reply_text(offer)
    turn = await person.press("Ja, graag")
    assert turn.action == "handover" and turn.handover_id
    handover = engine.store.active_handover(person.conversation_id)
    assert (handover.id, handover.status, handover.topic, handover.question) == (
        turn.handover_id, "waiting", answered.topic, question)
    assert handover.bot_answer == "Heeft dit geholpen?" or handover.bot_answer.startswith("Wilt u")


async def test_declining_a_volunteer_keeps_the_bot_going(engine, request):
    person = newcomer(engine, request)
    await person.say("what does basic health insurance cover?")
    await person.press("No")
    turn = await person.press("No, thanks")
    assert "anything else" in reply_text(turn)
    assert engine.store.active_handover(person.conversation_id) is None


@pytest.fixture
async def cross_topic_close_call(engine):
    for number, text in enumerate(CROSS_TOPIC_CLOSE_CALLS):
        if (await Newcomer(engine, f"close call {number}").say(text)).action == "clarify":
            return text
    pytest.fail("none of the cross-topic close calls got a clarifying question")


async def test_a_cross_topic_close_call_becomes_a_clarifying_question_and_a_choice_answers(
        engine, request, shipped, cross_topic_close_call):
    person = newcomer(engine, request)
    turn = await person.say(cross_topic_close_call)
    assert turn.action == "clarify"
    titles = button_titles(turn)
    assert 2 <= len(titles) - 1 <= 3 and titles[-1] in ("None of these", "Geen van deze")
    options = _entries_titled(shipped, titles[:-1])
    assert len({shipped.by_id[entry].topic for entry in options}) == len(options)  # one per topic
    chosen = titles[0]
    answered = await person.press(chosen)
    assert answered.action == "answer"
    assert chosen in {local.title for local in shipped.by_id[answered.entry].texts.values()}


async def test_none_of_the_options_offers_a_volunteer(engine, request, cross_topic_close_call):
    person = newcomer(engine, request)
    turn = await person.say(cross_topic_close_call)
    assert _offers_a_volunteer(await person.press(button_titles(turn)[-1]))


async def test_a_restart_in_the_middle_of_a_clarifying_question_continues_it(
        engine, request, cross_topic_close_call, trained_model, embedder, shared_data_dir):
    person = newcomer(engine, request)
    turn = await person.say(cross_topic_close_call)
    assert turn.action == "clarify"
    restarted = make_engine(trained_model, SHIPPED, shared_data_dir, embedder)  # same data folder
    person.engine = restarted
    assert _offers_a_volunteer(await person.press(button_titles(turn)[-1]))


def _offers_a_volunteer(turn) -> bool:
    return any(button.payload == "/request_human" for reply in turn.replies for button in reply.buttons)


async def test_a_warm_thank_you_is_small_talk_not_a_request_to_erase(engine, request):
    turn = await newcomer(engine, request).say("Thank you, that is very kind of you! Greetings from my cat Mimsythorn.")
    assert turn.action == "smalltalk" and "delete" not in reply_text(turn)


@pytest.mark.parametrize("text", ["who won the football world cup in 2022?",
                                  "wie heeft de wedstrijd van Ajax gewonnen?",
                                  "write me a poem about cats"])
async def test_out_of_scope_is_declined_never_answered_from_an_entry(engine, request, text):
    turn = await newcomer(engine, request).say(text)
    assert (turn.action, turn.entry, turn.topic) == ("fallback", None, None)
    assert not any(link in reply_text(turn) for link in ("https://", "http://"))
    # An emergency the gate and the classifier both missed is declined too: the numbers are there.
    assert "112" in reply_text(turn) and "113" in reply_text(turn)


@pytest.mark.parametrize("text,words", [
    ("how do I register with a GP in London", "a question about London"),
    ("waar vind ik een huisarts in Londen", "een vraag over Londen"),
])
async def test_a_question_about_a_place_abroad_is_declined_naming_the_place(engine, request, text, words):
    turn = await newcomer(engine, request).say(text)
    assert (turn.action, turn.entry) == ("fallback", None)
    assert words in reply_text(turn)


@pytest.mark.parametrize("text,topic", [
    ("I just moved here from India, how do I register with a GP?", "gp"),
    ("when is the japan festival", "meeting_people"),  # the knowledge base speaks of Japan
    ("My kids went to school in Toronto, how do they start school here?", "school"),
])
async def test_where_the_newcomer_comes_from_or_a_local_event_is_not_abroad(engine, request, text, topic):
    turn = await newcomer(engine, request).say(text)
    assert (turn.action, turn.topic) == ("answer", topic)


@pytest.mark.parametrize("text", [
    "Paano ako makakahanap ng doktor dito sa Amstelveen?",  # Tagalog: a house matched "... sa Amstelveen?"
    "在阿姆斯特尔芬怎么找家庭医生？",
    "จะหาหมอประจำครอบครัวในอัมสเตลเวนได้อย่างไร",
])
async def test_a_short_question_naming_the_city_is_answered_by_its_subject(engine, request, text):
    turn = await newcomer(engine, request).say(text)
    assert (turn.action, turn.topic) == ("answer", "gp")


async def test_a_long_message_with_context_is_answered_from_its_question(engine, request):
    turn = await newcomer(engine, request).say(
        "Hi there. We moved to Amstelveen two weeks ago from Chennai with our two kids, aged 6 "
        "and 9. Neither of them speaks Dutch yet and we are a bit lost. Which school can they go to?")
    assert (turn.action, turn.topic) == ("answer", "school")


@pytest.mark.parametrize("text,entry", [
    ("how do I extend my residence permit?", "referral-residence-permit"),
    ("how much huurtoeslag can I get", "referral-allowances"),
    ("kan ik mijn buitenlandse rijbewijs omwisselen?", "referral-driving-licence"),
])
async def test_what_another_organisation_handles_is_referred_to_it(engine, request, shipped, text, entry):
    turn = await newcomer(engine, request).say(text)
    assert (turn.action, turn.topic, turn.entry) == ("answer", "referral", entry)
    assert all(link in turn.replies[0].text for link in shipped.by_id[entry].links)


async def test_a_same_topic_close_call_is_answered_with_the_runner_up_as_related(engine, request, shipped):
    person = newcomer(engine, request)
    turn = await person.say(SAME_TOPIC_CLOSE_CALL)
    assert turn.action == "answer"
    related = [button.title for button in turn.replies[0].buttons if button.payload.startswith("/ask_question")]
    assert related and all(shipped.by_id[e].topic == turn.topic for e in _entries_titled(shipped, related))
    pressed = await person.press(related[0])
    assert pressed.action == "answer" and pressed.entry != turn.entry


def _entries_titled(knowledge, titles: list[str]) -> list[str]:
    """The entries with one of these titles, in English or Dutch (the reply's language)."""
    return [entry.id for entry in knowledge.entries
            if any(local.title in titles for local in entry.texts.values())]


async def test_a_question_the_knowledge_base_cannot_answer_says_what_it_can_do(
        trained_model, embedder, tmp_path):
    """A knowledge base of GP entries only: a question about learning Dutch finds nothing close.
    (A question that shares words with a GP entry can still get it: see the README's Known
    limits.)"""
    folder = copy_shipped(tmp_path / "knowledge", ["gp-register", "gp-costs"])
    engine = make_engine(trained_model, folder, tmp_path / "data", embedder)
    person = Newcomer(engine, "someone")
    turn = await person.say("where can I learn Dutch?")
    assert (turn.action, turn.entry) == ("fallback", None)
    assert "I can help with: finding a GP" in reply_text(turn)
    assert (await person.press("Yes, connect me")).action == "handover"


@pytest.mark.parametrize("text,lang", [("I want to talk to a real person", "en"),
                                       ("ik wil een medewerker spreken", "nl"),
                                       ("/human", "en")])
async def test_request_for_a_human_when_hours_are_unknown(engine, request, text, lang):
    turn = await newcomer(engine, request).say(text)
    assert turn.action == "handover" and turn.topic is None
    expected = "not confirmed" if lang == "en" else "niet bevestigd"
    assert expected in reply_text(turn)



@pytest.mark.parametrize("text,action", [
    ("how do I sign up as a volunteer?", "answer"),
    ("Ik zou graag vrijwilliger willen worden", "answer"),
    ("I would like to chat with a volunteer please", "handover"),
    ("kan ik een vrijwilliger spreken over mijn situatie?", "handover"),
])
async def test_becoming_a_volunteer_is_a_question_talking_to_one_is_a_handover(engine, request, text, action):
    """'Volunteer' is in both: the desk's volunteers and volunteering as a topic."""
    turn = await newcomer(engine, request).say(text)
    assert turn.action == action
    assert turn.topic == ("volunteering" if action == "answer" else None)

@pytest.fixture(scope="module")
def desk_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("knowledge")
    (folder / "entries").symlink_to(SHIPPED / "entries")
    (folder / "desk-hours.yaml").write_text(OPEN_TUESDAY_MORNINGS)
    return folder


@pytest.mark.parametrize("now,expected", [
    (TUESDAY_MORNING, "open now, until 12:00"),
    (TUESDAY_NIGHT, "closed now. It opens again on Tuesday 1 December at 09:00"),
])
async def test_handover_message_follows_the_desk_hours_file(
        trained_model, embedder, desk_folder, shared_data_dir, tmp_path, now, expected):
    engine = make_engine(trained_model, desk_folder, shared_data_dir, embedder, clock=lambda: now,
                         store_dir=tmp_path)
    turn = await Newcomer(engine, "someone").say("can I talk to a volunteer please")
    assert turn.action == "handover"
    assert expected in reply_text(turn)


@pytest.mark.parametrize("text,entry,number", [
    ("my husband collapsed and is not breathing", "emergency-112", "112"),
    ("mijn vader krijgt geen lucht", "emergency-112", "112"),
    ("I don't want to live anymore", "crisis-113", "113"),
    ("ik denk steeds aan zelfmoord", "crisis-113", "113"),
    ("hi! quick question, I want to die", "crisis-113", "113"),  # greeting first: still safety
    ("我真的不想活了", "crisis-113", "113"),
    ("my baby has a high fever and it's sunday night, our doctor is closed",
     "urgent-huisartsenpost", "020"),
])
async def test_safety_gets_the_fixed_answer_at_once_then_the_offer_of_a_human(
        engine, request, text, entry, number):
    turn = await newcomer(engine, request).say(text)
    assert (turn.action, turn.entry) == ("safety", entry)
    (message,) = turn.replies
    assert number in message.text.split("\n\n")[0]
    assert "volunteer" in message.text or "vrijwilliger" in message.text
    assert any("/request_human" == b.payload for b in message.buttons)


async def test_each_safety_message_gets_its_own_entry_not_the_one_before(engine, request):
    """The classifier's safety intent carries no entry: the entry of an earlier safety answer
    in the conversation must not be given again."""
    person = newcomer(engine, request)
    first = await person.say("my baby has a high fever and it's sunday night, our doctor is closed")
    assert first.entry == "urgent-huisartsenpost"
    second = await person.say("mein fahrrad wurde geklaut, welche nummer hat die polizei wenn es kein notfall ist")
    assert (second.action, second.entry) == ("safety", "emergency-police-non-urgent")


@pytest.mark.parametrize("text,matches,entry", [
    # a safety entry second or third: the classifier's call decides for it, not the regression
    ("I feel so alone here, nobody to talk to", ("safety",), "crisis-feeling-low"),
    ("someone stole my wallet in the tram, what do I do", ("safety",), "emergency-police-non-urgent"),
    # none among the closest: no safety answer; the regression answers or declines it
    ("starting out as a freelancer, is there any support?", ("answer", "none"), "work-entrepreneurs"),
])
async def test_the_classifiers_safety_intent_needs_a_safety_entry_among_the_closest(engine, text, matches, entry):
    """When the classifier (not the safety gate) calls a message safety, the search answers the
    closest safety entry; with none among the closest, the message is an ordinary question
    (DIET once gave a freelancer asking for support the crisis line)."""
    search = engine.processor.actions["action_search_knowledge"]
    tracker = DialogueStateTracker.from_events("0", [UserUttered(text, {"name": "safety", "confidence": 0.9})])
    tracker.update(SlotSet("user_language", "en"))
    events = await search.run(CollectingOutputChannel(), engine.processor.nlg, tracker, engine.processor.domain)
    slots = {event.key: event.value for event in events}
    assert slots["match"] in matches
    assert slots["entry_id"] == entry


async def test_other_language_gets_english_with_a_line_in_their_language(engine, request):
    turn = await newcomer(engine, request).say("मुझे डॉक्टर के पास रजिस्टर करना है, क्या करूँ?")
    assert (turn.action, turn.topic, turn.language) == ("answer", "gp", "hi")
    answer, notice = turn.replies[0].text.split("\n\n")[:2]
    assert "huisarts" in answer  # the English answer
    assert re.search("[\u0900-\u097f]", notice)  # the notice, in Devanagari


async def test_chosen_language_wins_over_the_written_one(engine, request):
    person = newcomer(engine, request)
    turn = await person.say("/language")
    assert button_titles(turn) == ["English", "Nederlands"]
    turn = await person.press("Nederlands")
    assert "Nederlands" in reply_text(turn)
    turn = await person.say("How do I register with a GP?")
    assert turn.language == "en" and turn.replies[-1].text.endswith("Heeft dit geholpen?")


async def test_forget_me_erases_the_conversation_after_confirmation(engine, request):
    person = newcomer(engine, request)
    await person.say("where can I learn Dutch?")
    await person.say("I want to speak to a volunteer")
    conversation_id = person.conversation_id
    await person.say("please delete my data")
    turn = await person.press("Yes, delete it")
    assert "deleted" in reply_text(turn)
    db = engine.store.db
    for table in ("messages", "handovers"):
        assert db[table].count_where("conversation_id = ?", [conversation_id]) == 0
    assert db["conversations"].count_where("id = ?", [conversation_id]) == 0


async def test_forget_me_declined_keeps_everything(engine, request):
    person = newcomer(engine, request)
    await person.say("verwijder al mijn gegevens")
    turn = await person.press("Nee, bewaren")
    assert "niets verwijderd" in reply_text(turn)
    assert engine.store.db["messages"].count_where("conversation_id = ?", [person.conversation_id]) == 4


@pytest.mark.parametrize("text,words", [("are you a bot?", "automated assistant"),
                                        ("dankjewel!", "Graag gedaan"),
                                        ("bye", "Goodbye")])
async def test_small_talk(engine, request, text, words):
    turn = await newcomer(engine, request).say(text)
    assert turn.action == "smalltalk" and words in reply_text(turn)


async def test_a_10000_character_message_is_stored_whole_and_answered(engine, request):
    person = newcomer(engine, request)
    text = "How do I register with a GP? " + "I have many details to tell you. " * 400
    turn = await person.say(text[:10_000])
    assert turn.replies
    stored = engine.store.last_messages(person.conversation_id)[0]["text"]
    assert len(stored) == 10_000


async def test_every_turn_is_recorded_with_its_outcome(engine, request):
    person = newcomer(engine, request)
    turn = await person.say("where can I get advice about schools for my children?")
    incoming = engine.store.last_messages(person.conversation_id)[0]
    assert (incoming["direction"], incoming["action"], incoming["entry"]) == ("in", turn.action, turn.entry)
