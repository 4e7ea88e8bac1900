"""Which language a newcomer writes in, and which language the assistant answers in.

Words that the knowledge base uses in both its English and its Dutch texts (Amstelveen,
huisarts, BSN, inburgering) say nothing about the language of a message, so they are left
out before detection. A message too short or too mixed to tell keeps the conversation's
language; answers are in English or Dutch (the languages of the knowledge base).

Less common languages (Latvian, Croatian, Swahili, Gujarati, ...) are asked about only when
the common ones cannot tell: in one detector with the rest they made 165 English and Dutch
messages of the development sets undecidable (more close rivals), taken for English at the
start of a conversation. Asked second, they change no English or Dutch message, and a plain
question in Latvian is no longer read as English (whose scores it would be judged by).
"""

from __future__ import annotations

import string
from collections import Counter

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from bot.knowledge.base import KnowledgeBase

ANSWER_LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
# lingua's confidence: clear on its own, or fairly low but far ahead of the runner-up
# ("ik wil dood": Dutch 0.38, English 0.16). Calibrated on tests/data/eval_questions.yaml.
CLEAR_CONFIDENCE = 0.5
LEAD_CONFIDENCE, LEAD_RATIO = 0.3, 2.3
ENGLISH_ONLY_RATIO = 5  # a word the English texts use 5 times as often as the Dutch ones tells English
DETECTABLE = (
    Language.ENGLISH, Language.DUTCH, Language.GERMAN, Language.FRENCH, Language.SPANISH,
    Language.PORTUGUESE, Language.ITALIAN, Language.POLISH, Language.TURKISH,
    Language.UKRAINIAN, Language.RUSSIAN, Language.ARABIC, Language.HINDI, Language.CHINESE,
    Language.JAPANESE, Language.KOREAN, Language.PERSIAN, Language.ROMANIAN,
    Language.BULGARIAN, Language.GREEK, Language.HEBREW, Language.INDONESIAN, Language.TAMIL,
    Language.TELUGU, Language.BENGALI, Language.URDU, Language.HUNGARIAN, Language.VIETNAMESE,
    Language.THAI,
)
LESS_COMMON = (
    Language.LATVIAN, Language.LITHUANIAN, Language.ESTONIAN, Language.CZECH, Language.SLOVAK,
    Language.CROATIAN, Language.SERBIAN, Language.BOSNIAN, Language.SLOVENE,
    Language.MACEDONIAN, Language.ALBANIAN, Language.AZERBAIJANI, Language.MALAY,
    Language.SWAHILI, Language.SOMALI, Language.TAGALOG, Language.YORUBA, Language.GUJARATI,
    Language.PUNJABI, Language.MARATHI, Language.GEORGIAN, Language.ARMENIAN, Language.KAZAKH,
    Language.MONGOLIAN,
)


def _words(text: str) -> list[str]:
    return [w.strip(string.punctuation + "¿¡“”‘’") for w in text.casefold().split()]


def shared_vocabulary(knowledge: KnowledgeBase) -> frozenset[str]:
    """Words that occur in both the English and the Dutch texts of the knowledge base, except
    those the English texts use far more often: "the" and "Netherlands" occur in the Dutch
    texts only in names ("Living in The Netherlands") and do tell English ("whats the phone
    number of the gemeente" could not be told without them; on the development sets 20 more
    messages are told right, one Hinglish one is read as English)."""
    counts = {lang: Counter() for lang in ANSWER_LANGUAGES}
    for lang, counter in counts.items():
        for entry in knowledge.entries:
            local = entry.texts[lang]
            counter.update(_words(" ".join([local.title, local.answer, *local.questions])))
    english, dutch = counts["en"], counts["nl"]
    return frozenset(word for word in english.keys() & dutch.keys()
                     if english[word] <= ENGLISH_ONLY_RATIO * dutch[word])


class LanguageDetector:
    def __init__(self, shared_words: frozenset[str]):
        self.shared_words = shared_words
        self._common = _detector(DETECTABLE)
        self._all = _detector(DETECTABLE + LESS_COMMON)

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of the message's language, or None when it cannot be told."""
        telling = " ".join(w for w in _words(text) if w and w not in self.shared_words)
        if not telling:
            return None
        return _confident(self._common, telling) or _confident(self._all, telling)


def _detector(languages: tuple[Language, ...]):
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def _confident(detector, text: str) -> str | None:
    """The detector's language for `text` when it is clear enough, else None."""
    best, runner_up = detector.compute_language_confidence_values(text)[:2]
    clear = best.value >= CLEAR_CONFIDENCE
    ahead = best.value >= LEAD_CONFIDENCE and best.value >= LEAD_RATIO * runner_up.value
    return best.language.iso_code_639_1.name.lower() if clear or ahead else None


def answer_language(written: str | None, chosen: str | None) -> str:
    """English or Dutch: the newcomer's choice, else the language they write, else English."""
    if chosen in ANSWER_LANGUAGES:
        return chosen
    return written if written in ANSWER_LANGUAGES else DEFAULT_LANGUAGE


def language_name(code: str) -> str:
    """The English name of a language code ("hi" -> "Hindi"), or the code when unknown."""
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code)).name.title()
    except ValueError:
        return code
