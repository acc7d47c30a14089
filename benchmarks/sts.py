"""Chinese STS benchmark for the embedding model, beside published numbers.

Spearman x100 between the cosine of the two sentences' E5 vectors and the gold
label, on the senteval_cn test splits (ATEC, BQ, LCQMC, PAWSX: 0/1 labels;
STS-B: 0-5 scores), with no fine-tuning, as in the text2vec README.

Prompt: E5's model card asks for "query: " on both sides of symmetric tasks
(semantic similarity, paraphrase); that is the default (`--prompt query`).
`--prompt passage` puts "passage: " on both sides instead, for comparison; on
the default sample it averaged 46.0 against 47.3 for "query: " (better on BQ and
PAWSX, worse on ATEC, LCQMC and STS-B).

Run: .venv/bin/python benchmarks/sts.py [--limit N] [--data-dir DIR] [--json]
The full run encodes 75,617 distinct sentences (45,861 pairs): measured 18 min
on 2 shared cores (71 sentences/s; PAWSX's long sentences about 25/s). So by
default each set is cut to a deterministic 2,000-pair sample (seed 0; about
17,000 sentences, 6 min); `--limit 0` runs everything. On the sample the scores
were within 3 points of the full sets (ATEC 35.6 vs 34.2, BQ 39.9 vs 42.8).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "zh-sts"
SETS = ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")
DEFAULT_LIMIT = 2000
# Published figures (the text2vec project README): full test sets, no fine-tuning.
PUBLISHED = {
    "paraphrase-multilingual-MiniLM-L12-v2": (18.42, 38.52, 63.96, 10.14, 78.90),
    "text2vec-base-chinese": (31.93, 42.67, 70.16, 17.21, 79.30),
}


@dataclass
class SetResult:
    name: str
    pairs: int
    total_pairs: int
    sentences: int
    spearman: float
    encode_seconds: float


def read_pairs(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    left, right, labels = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        left.append(parts[0])
        right.append(parts[1])
        labels.append(float(parts[2]))
    return left, right, np.asarray(labels, dtype=np.float64)


def sample_indices(total: int, limit: int, seed: int) -> np.ndarray:
    """A deterministic subset of pair indices (all of them when limit is 0 or large)."""
    if limit <= 0 or limit >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=limit, replace=False))


def evaluate_set(name: str, path: Path, encode, limit: int, seed: int) -> SetResult:
    from scipy.stats import spearmanr

    left, right, labels = read_pairs(path)
    chosen = sample_indices(len(labels), limit, seed)
    left = [left[i] for i in chosen]
    right = [right[i] for i in chosen]
    unique = sorted(set(left) | set(right))
    started = time.perf_counter()
    vectors = encode(unique)
    seconds = time.perf_counter() - started
    row = {text: i for i, text in enumerate(unique)}
    a = vectors[[row[t] for t in left]]
    b = vectors[[row[t] for t in right]]
    cosine = np.sum(a * b, axis=1)
    rho = spearmanr(cosine, labels[chosen]).statistic
    return SetResult(name, len(chosen), len(labels), len(unique), 100.0 * float(rho), seconds)


def format_table(our_label: str, results: list[SetResult]) -> str:
    by_name = {r.name: r.spearman for r in results}
    header = f"| {'model':<44} | " + " | ".join(f"{s:>6}" for s in SETS) + " |    avg |"
    rule = "|" + "-" * 46 + "|" + "|".join("-" * 8 for _ in SETS) + "|--------|"
    lines = [header, rule]
    for model, scores in PUBLISHED.items():
        lines.append(_row(model, dict(zip(SETS, scores, strict=True))))
    lines.append(_row(our_label, by_name))
    return "\n".join(lines)


def _row(label: str, scores: dict[str, float]) -> str:
    cells = [f"{scores[s]:6.2f}" if s in scores else f"{'-':>6}" for s in SETS]
    present = [scores[s] for s in SETS if s in scores]
    avg = f"{np.mean(present):6.2f}" if len(present) == len(SETS) else f"{'-':>6}"
    return f"| {label:<44} | " + " | ".join(cells) + f" | {avg} |"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        help=f"pairs per set, deterministic sample (default {DEFAULT_LIMIT}; 0 = all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompt", choices=("query", "passage"), default="query")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=SETS)
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = {name: args.data_dir / f"{name}.test.tsv" for name in args.sets}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        print(f"missing data files: {', '.join(missing)}", file=sys.stderr)
        return 2

    from daogou.settings import load_settings
    from search.embeddings import Embedder, ensure_model_folder, load_model, model_folder

    started = time.perf_counter()
    folder = ensure_model_folder(model_folder(load_settings().models_dir))
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    import sentence_transformers  # noqa: F401  (timed apart from the model load)

    import_seconds = time.perf_counter() - started
    started = time.perf_counter()
    embedder = Embedder(load_model(folder))
    load_seconds = time.perf_counter() - started
    encode = embedder.encode_queries if args.prompt == "query" else embedder.encode_documents

    def encode_batched(texts: list[str]) -> np.ndarray:
        return encode(texts, batch_size=args.batch_size)

    results = []
    for name, path in paths.items():
        result = evaluate_set(name, path, encode_batched, args.limit, args.seed)
        results.append(result)
        print(
            f"{name:<6} pairs {result.pairs:>6}/{result.total_pairs:<6} "
            f"sentences {result.sentences:>6}  spearman {result.spearman:6.2f}  "
            f"encode {result.encode_seconds:7.1f} s "
            f"({result.sentences / result.encode_seconds:6.1f} sentences/s)",
            flush=True,
        )

    sampled = any(r.pairs < r.total_pairs for r in results)
    label = f"multilingual-e5-small ({args.prompt}: both sides)"
    sentences = sum(r.sentences for r in results)
    encode_seconds = sum(r.encode_seconds for r in results)
    print()
    print("Chinese STS, Spearman x100 of cosine similarity, no fine-tuning")
    print(format_table(label, results))
    if sampled:
        print(
            f"\nOur row uses a deterministic sample of up to {args.limit} pairs per set "
            f"(seed {args.seed}); the published rows use the full test sets. "
            "Run with --limit 0 for the full sets."
        )
    print(
        f"\nmodel folder {folder} (ready in {build_seconds:.1f} s), "
        f"import {import_seconds:.1f} s, load {load_seconds:.1f} s, "
        f"encode {sentences} sentences in {encode_seconds:.1f} s = "
        f"{sentences / encode_seconds:.1f} sentences/s (batch {args.batch_size})"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "model": label,
                    "prompt": args.prompt,
                    "limit": args.limit,
                    "spearman": {r.name: round(r.spearman, 2) for r in results},
                    "pairs": {r.name: r.pairs for r in results},
                    "sentences_per_s": round(sentences / encode_seconds, 1),
                    "import_s": round(import_seconds, 2),
                    "load_s": round(load_seconds, 2),
                    "build_s": round(build_seconds, 2),
                },
                ensure_ascii=False,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
