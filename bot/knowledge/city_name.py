"""The city's own name, in the scripts newcomers write it in, left out of what gets embedded.

Nearly every example question says "in Amstelveen", so in a short message the name weighed
more than the subject: "Paano ako makakahanap ng doktor dito sa Amstelveen?" (a doctor) came
closest to the Tagalog example "... bahay sa Amstelveen?" (a house). Without the name on both
sides the subject decides. Development sets, top-1 right entry, EN / NL / other languages:
94.3 / 95.1 / 90.6 with the name, 94.9 / 95.5 / 92.2 without. The character n-gram score still
reads the whole message.
"""

from __future__ import annotations

import re

CITY_NAME = re.compile(
    # Endings count as part of the name where words are spaced: Amstelveenben, Амстелвене.
    r"amstelveen\S*"
    r"|Амстелв\S*"                          # Russian, Ukrainian
    r"|\w*مستلف[یي]ن\S*"                   # Arabic, Farsi (with prefixes: بأمستلفين)
    r"|ا[یي]مسٹ[یي]?لو[یي]ن\S*"             # Urdu
    r"|\w*אמסטלפין\S*"                      # Hebrew (with prefixes: באמסטלפין)
    r"|[अआए]म्स्?ट[ेॅ]?ल[वब][ीेॉ]न\S*"       # Hindi
    r"|আমস্টেলভেন\S*"                       # Bengali
    r"|ஆம்ஸ்டல்வீன\S*"                       # Tamil
    r"|ఆమ్\u200c?స్టె?ల్\u200c?వీన్\S*"        # Telugu
    r"|[አኣ]ምስተልቨን\S*"                      # Amharic, Tigrinya
    r"|Άμστελ[βφ]εεν\S*"                     # Greek
    r"|암스텔베[인엔]\S*"                     # Korean (with particles: 암스텔베인에서)
    # No spaces between words: the name alone.
    r"|阿姆斯特[尔爾]芬|アムステルフェ[ーイ]?ン|(?:ใน)?อัมสเตลเวน",
    re.IGNORECASE,
)


def without_city_name(text: str) -> str:
    """`text` without the city's name; the text itself if nothing else is left."""
    rest = " ".join(CITY_NAME.sub(" ", text).split())
    return rest or text
