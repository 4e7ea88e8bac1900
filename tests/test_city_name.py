"""The city's name is left out of what gets embedded, in the scripts newcomers write it in."""

import pytest

from bot.knowledge.city_name import without_city_name


@pytest.mark.parametrize("text, rest", [
    ("How do I find a GP in Amstelveen?", "How do I find a GP in"),
    ("Amstelveenben hol találok orvost?", "hol találok orvost?"),          # Hungarian ending
    ("Как записаться в Амстелвене?", "Как записаться в"),
    ("암스텔베인에서 의사를 찾으려면?", "의사를 찾으려면?"),                 # with its particle
    ("在阿姆斯特尔芬怎么找家庭医生？", "在 怎么找家庭医生？"),
    ("จะหาหมอในอัมสเตลเวนได้อย่างไร", "จะหาหมอ ได้อย่างไร"),              # Thai: no spaces to strip
    ("I live in Amsterdam", "I live in Amsterdam"),
    ("Amstelveen", "Amstelveen"),                                          # nothing else is left
])
def test_the_city_name_is_left_out(text, rest):
    assert without_city_name(text) == rest
