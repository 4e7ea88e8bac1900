"""The safety gate on its own: trigger phrases in any language, and the embedding match
weighed against the dialogue examples (real multilingual model)."""

import pytest

from bot.conversation.dialogue_examples import DialogueExamples
from bot.conversation.safety import SAFETY_SIMILARITY, SafetyGate
from bot.knowledge.base import load_knowledge
from bot.knowledge.retrieval import Hit
from bot.settings import Settings
from tests.knowledge_fixtures import SHIPPED


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(SHIPPED).knowledge


@pytest.fixture(scope="module")
def gate(knowledge):
    settings = Settings.from_env()
    return SafetyGate(list(knowledge.entries), DialogueExamples.shared(settings.model, settings.cache_dir))


@pytest.mark.parametrize("text,entry", [
    ("I keep thinking about SUICIDE", "crisis-113"),
    ("Ik wil niet meer leven.", "crisis-113"),
    ("我真的不想活了", "crisis-113"),  # no spaces in Chinese: matched inside the sentence
    ("artık yaşamak istemiyorum", "crisis-113"),
    ("Mój mąż stracił przytomność, co robić", "emergency-112"),
    ("mijn vader heeft pijn op de borst en is helemaal grauw", "emergency-112"),
    ("自転車を盗まれました。警察に届けたい", "emergency-police-non-urgent"),  # a stem: any verb ending
    ("街上有人在打人，有人受伤很严重", "emergency-112"),  # violence and a serious injury
    ("mijn buurman is zwaar gewond na een val van de trap", "emergency-112"),
    ("gdzie zglosic kradziez roweru", "emergency-police-non-urgent"),  # "zgłosić" without ł
    ("I'm at the bridge and I'm thinking of jumping", "crisis-113"),
    # ... said indirectly, with a request for a person after it (the classifier: a handover)
    ("been thinking about ending it all lately. is there anyone i can talk to anonymously", "crisis-113"),
    ("someone stole my wallet on the tram, where do I report it", "emergency-police-non-urgent"),
    # ... which the classifier took for thanks (0.90), and a friend's, in Czech
    ("ich habe gedanken, mir das leben zu nehmen", "crisis-113"),
    ("kamarádka mi píše, že se chce zabít", "crisis-113"),
    # ... and the three that a higher answer threshold no longer brought to safety
    ("my friend just texted me goodbye and said she took all her pills. what do i do", "emergency-112"),
    ("komşunun evinden duman çıkıyor!! kimi arayayım", "emergency-112"),  # the classifier: a handover
    ("ጓደኛዬ ራሱን ላጠፋ ነው እያለ ነው፣ ምን ላድርግ?", "crisis-113"),  # Amharic: a friend
    # Locked set 14's: a neighbour beaten (Russian), a knife fight (Lithuanian, no accents)
    ("у соседей кричит женщина, похоже ее бьют, что делать", "emergency-112"),
    ("gatveje musasi du vyrai, vienas su peiliu", "emergency-112"),
    ("jag orkar inte leva langre", "crisis-113"),
    # Locked set 15's: violence and medical emergencies given another safety entry
    ("de buurman schreeuwt dat hij zijn vrouw gaat vermoorden", "emergency-112"),  # not 113
    ("夜中に子どもが高熱でけいれんしています", "emergency-112"),  # a seizure beats the fever
    ("ο πατέρας μου έχει δυνατό πόνο στο στήθος", "emergency-112"),  # accusative "πόνο"
    ("my daughter's wrist looks weird, I think it's broken", "urgent-huisartsenpost"),
    # Locked set 16's: violence happening now (DIET: out of scope), sadness (a handover),
    # a threat to kill in Albanian (the crisis line)
    ("a man is beating a woman outside, right now", "emergency-112"),
    ("옆집에서 연기가 나요", "emergency-112"),
    ("yahan bahut akela feel hota hai, kuch accha nahi lagta", "crisis-feeling-low"),
    ("fqinji bërtet se do ta vrasë gruan", "emergency-112"),
    # locked set 17: a door being broken in Korean (declined), a bicycle stolen "yesterday"
    # whose "aangifte" drew the tax return, a fall from a balcony (given the hospital)
    ("누가 현관문을 부수고 있어요", "emergency-112"),
    ("mijn fiets is vannacht gestolen, hoe doe ik aangifte?", "emergency-police-non-urgent"),
    ("mijn zoon is van het balkon gevallen", "emergency-112"),
    ("синът ми падна от балкона", "emergency-112"),
    # locked set 18: someone not breathing put as "isn't", screaming next door, followed with a
    # knife in Albanian, a swollen and bent wrist (all declined); "tbib msdod" (the doctor is
    # closed) in Darija; lips turning blue and a bleeding head (given the huisartsenpost, the hospital)
    ("a man is lying on the pavement and he isn't breathing", "emergency-112"),
    ("ik hoor bij de buren een vrouw gillen", "emergency-112"),
    ("dikush po më ndjek me thikë", "emergency-112"),
    ("she fell and her wrist is swollen and bent", "urgent-huisartsenpost"),
    ("wja3 kbir w tbib msdod", "urgent-huisartsenpost"),
    ("मेरी मां के होंठ नीले पड़ रहे हैं", "emergency-112"),
    ("nahulog si lolo, dumudugo ang ulo niya", "emergency-112"),
    # locked set 19 (declined, answered or handed over): chest pain in Russian, a fall in
    # Portuguese, a stroke in French, theft in French, Indonesian and Persian
    ("у мужа сильная боль в груди", "emergency-112"),
    ("minha mãe caiu e não consegue levantar", "emergency-112"),
    ("son visage tombe d'un côté", "emergency-112"),
    ("on m'a volé mon téléphone dans le tram", "emergency-police-non-urgent"),
    ("hp saya dicopet di bus", "emergency-police-non-urgent"),
    ("دیشب دزد اومد خونمون", "emergency-police-non-urgent"),
    ("I keep having panic attacks", "crisis-feeling-low"),
    # Chest pain is 112, not the huisartsenpost, however it is put
    ("mon mari a une douleur très forte à la poitrine", "emergency-112"),
    ("its sunday and my ear hurts like crazy, which doctor is open", "urgent-huisartsenpost"),
    ("Kuna mtu anavunja mlango wa jirani sasa hivi!", "emergency-112"),  # Swahili
    ("ลูกชายไข้สูงมากตอนกลางคืน หมอปิดแล้ว", "urgent-huisartsenpost"),  # Thai: no spaces between words
])
def test_a_trigger_phrase_anywhere_in_the_message_matches(gate, text, entry):
    match = gate.check(text, [])
    assert (match.entry.id, match.reason) == (entry, "trigger")


def test_a_trigger_inside_another_word_does_not_match(gate):
    assert gate.check("I teach a class on suicidesquad comics", []) is None


def test_a_gp_close_to_home_is_not_a_closed_gp(gate):
    """Dutch "dicht" is closed, and "dicht bij" near (locked set 18 got the huisartsenpost)."""
    assert gate.check("hoe vind ik een huisarts dicht bij mijn huis", []) is None


def test_a_close_embedding_match_on_a_safety_entry_is_enough(gate, knowledge):
    emergency = knowledge.by_id["emergency-112"]
    hit = Hit(emergency, SAFETY_SIMILARITY + 0.08, SAFETY_SIMILARITY + 0.05, 0.1)
    assert gate.check("smoke is coming out of the flat next door", [hit]).reason == "similarity"


def test_a_match_closer_to_a_dialogue_example_is_left_to_the_classifier(gate, knowledge):
    """A request for a person comes close to the crisis line, closer still to nlu/'s requests."""
    crisis = knowledge.by_id["crisis-113"]
    hit = Hit(crisis, SAFETY_SIMILARITY + 0.08, SAFETY_SIMILARITY + 0.05, 0.1)
    assert gate.check("i want to talk to a real person", [hit]) is None


def test_a_weaker_match_or_an_ordinary_entry_is_not(gate, knowledge):
    crisis, gp = knowledge.by_id["crisis-113"], knowledge.by_id["gp-register"]
    assert gate.check("words", [Hit(crisis, 0.9, SAFETY_SIMILARITY - 0.01, 0.0)]) is None
    assert gate.check("words", [Hit(gp, 1.0, 0.99, 0.0)]) is None
