"""NLU quality on the held-out hand-written examples, beside the project's targets.

Reads the reports of `daogou bot test-nlu` (run by `make test`, or run it first) and prints
intent macro-F1, entity F1 per extractor and the response selectors' accuracy, plus the
weakest intents — the baseline in the same run is a majority-class classifier.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daogou.nlu.botprep import results_dir  # noqa: E402
from daogou.nlu.evaluate import entity_scores  # noqa: E402
from daogou.settings import load_settings  # noqa: E402
from tests.e2e.test_nlu_heldout import price_f1  # noqa: E402


def main() -> None:
    folder = results_dir(load_settings())
    intents = json.loads((folder / "intent_report.json").read_text())
    labels = {
        k: v
        for k, v in intents.items()
        if isinstance(v, dict) and "support" in v and " avg" not in k
    }
    total = sum(v["support"] for v in labels.values())
    majority = max(v["support"] for v in labels.values()) / total
    print(f"held-out hand-written examples: {total} over {len(labels)} intents")
    print(f"{'':34}{'ours':>8}{'target':>8}{'baseline':>10}")
    print(f"{'intent macro-F1':34}{intents['macro avg']['f1-score']:8.3f}{0.95:8.2f}{'':>10}")
    print(
        f"{'intent accuracy':34}{intents.get('accuracy', 0):8.3f}{'':>8}{majority:10.3f}  (majority class)"
    )
    scores = entity_scores(folder)
    print(f"{'entity F1 (pipeline, exact spans)':34}{scores['f1']:8.3f}{0.90:8.2f}")
    print(f"{'  precision / recall':34}{scores['precision']:8.3f}{scores['recall']:8.3f}")
    diet = json.loads((folder / "DIETClassifier_report.json").read_text())
    print(
        f"{'entity micro-F1 (DIET tokens, all)':34}{diet['micro avg']['f1-score']:8.3f}"
        "  (counts prices against DIET, which leaves them to our extractor)"
    )
    price = json.loads((folder / "ChinesePriceExtractor_report.json").read_text())
    print(
        f"{'price entity F1 (our extractor)':34}{price_f1(price):8.3f}  (ranges are not annotated: a lower bound)"
    )
    selection = folder / "response_selection_report.json"
    if selection.exists():
        report = json.loads(selection.read_text())
        print(f"{'response selection weighted-F1':34}{report['weighted avg']['f1-score']:8.3f}")
    types = {k[3:]: v for k, v in scores.items() if k.startswith("f1:")}
    print("entity F1 by type: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(types.items())))
    weak = sorted((v["f1-score"], k) for k, v in labels.items())[:5]
    print("weakest intents: " + ", ".join(f"{k} {f:.2f}" for f, k in weak))


if __name__ == "__main__":
    main()
