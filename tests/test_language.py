import pytest

from bot.conversation.language import LanguageDetector, answer_language, shared_vocabulary
from bot.knowledge.base import load_knowledge
from tests.knowledge_fixtures import SHIPPED


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector(shared_vocabulary(load_knowledge(SHIPPED).knowledge))


def test_words_of_both_languages_come_from_the_knowledge_base():
    shared = shared_vocabulary(load_knowledge(SHIPPED).knowledge)
    assert {"amstelveen", "huisarts", "bsn"} <= shared
    assert "please" not in shared and "alstublieft" not in shared
    assert "the" not in shared  # in the Dutch texts only inside names: it tells English


@pytest.mark.parametrize("text,lang", [
    ("where can I find a huisarts in Amstelveen?", "en"),  # Dutch place and word, English message
    ("list of international schools in amstelveen", "en"),
    ("whats the phone number of the gemeente", "en"),  # "the" tells English
    ("ik wil dood", "nl"),
    ("hoe schrijf ik mijn kind in op een basisschool", "nl"),
    ("मुझे डॉक्टर चाहिए", "hi"),
    ("Wo finde ich einen Hausarzt?", "de"),
    ("我需要看医生", "zh"),
    ("hol tanulhatok hollandul olcsón", "hu"),
    ("tôi muốn học tiếng hà lan, học ở đâu", "vi"),
    # less common languages, asked about when the common ones cannot tell
    ("Kur var apmainīt savu autovadītāja apliecību?", "lv"),
    ("Nawezaje kupata daktari wa familia?", "sw"),
    ("ਮੈਨੂੰ ਡਾਕਟਰ ਦੀ ਲੋੜ ਹੈ", "pa"),
])
def test_detects_the_language_of_the_message(detector, text, lang):
    assert detector.detect(text) == lang


@pytest.mark.parametrize("text", ["huisarts", "BSN", "ok", "👍", "Amstelveen?"])
def test_too_little_to_tell_gives_none(detector, text):
    assert detector.detect(text) is None


@pytest.mark.parametrize("written,chosen,expected", [
    ("nl", None, "nl"), ("en", None, "en"), ("hi", None, "en"), (None, None, "en"),
    ("en", "nl", "nl"), ("hi", "nl", "nl"), ("nl", "en", "en"),
])
def test_answer_language(written, chosen, expected):
    assert answer_language(written, chosen) == expected
