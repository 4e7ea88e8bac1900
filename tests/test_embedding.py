import numpy as np
import pytest

from bot.embedding import Embedder, ModelUnavailable

GP_PASSAGE = ("Registering with a GP (huisarts): register with a family doctor near your home; "
              "bring your ID, BSN and health insurance details.")
SCHOOL_PASSAGE = ("Enrolling your child in primary school: children may start school at 4; "
                  "register with the school of your choice in time.")


@pytest.mark.parametrize("question", [
    "How do I find a GP?",
    "Hoe vind ik een huisarts?",
    "मैं एक जीपी (फैमिली डॉक्टर) कैसे ढूंढूं?",
])
def test_gp_question_is_closer_to_gp_passage_than_to_school_passage(embedder, question):
    query = embedder.queries([question])[0]
    gp, school = embedder.passages([GP_PASSAGE, SCHOOL_PASSAGE])
    assert float(query @ gp) > float(query @ school)


def test_embeddings_are_normalised(embedder):
    vectors = embedder.queries(["huisarts", "taalcafé"])
    assert vectors.shape == (2, embedder.dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_questions_embedded_together_are_the_ones_embedded_alone(embedder):
    """A turn embeds a message with and without the city's name in one batch of unequal
    lengths (padding): each must be what it would be on its own."""
    texts = ["Hoe vind ik een huisarts in Amstelveen?", "Hoe vind ik een huisarts?"]
    together = embedder.remember(texts)
    for text, vector in zip(texts, together):
        assert np.allclose(vector, embedder.queries([text])[0], atol=1e-5)
        assert np.array_equal(embedder.query(text), vector)
    together[0][:] = 0  # the caller's copy: the remembered embedding is not changed
    assert np.linalg.norm(embedder.query(texts[0])) == pytest.approx(1.0, abs=1e-5)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        Embedder(str(tmp_path / "no-model-here"))
