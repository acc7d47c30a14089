"""Offline evaluation: loaders, splits, metrics against hand-computed values, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daogou import recs_cli
from recommender.cf import MODEL_NAMES, SessionBlend
from recommender.evaluation import (
    DataError,
    evaluate,
    leave_one_out,
    load_inter,
    load_seq,
    make_split,
    ranking_metrics,
    ratio_split,
    run_model,
)

REPO = Path(__file__).resolve().parents[2]
REQUIRED_KEYS = {
    "model",
    "hr@10",
    "ndcg@10",
    "recall@10",
    "precision@10",
    "map",
    "coverage",
    "train_s",
    "score_s",
}


# ------------------------------------------------------------------ data


def write_seq(path: Path) -> Path:
    """40 users walk 4 steps round one of two 5-item cycles, each from its own start."""
    cycles = [["a", "b", "c", "d", "e"], ["f", "g", "h", "i", "j"]]
    lines = []
    for user in range(1, 41):
        cycle = cycles[user % 2]
        walk = [cycle[(user // 2 + step) % 5] for step in range(4)]
        lines.append(" ".join([str(user), *walk]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_inter(path: Path) -> Path:
    """20 users, each rating 8 of 12 movies from one of two groups, with timestamps."""
    rows = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for user in range(1, 21):
        group = range(0, 6) if user % 2 else range(6, 12)
        items = [*group, (user % 6) + (6 if user % 2 else 0), 100 + user % 2]
        for position, item in enumerate(dict.fromkeys(items)):
            rows.append(f"{user}\t{item}\t{1 + position % 5}\t{1000 + 60 * position}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_load_seq_keeps_order_and_drops_repeats(tmp_path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("10 x y x z\n2 y z\n", encoding="utf-8")
    data = load_seq(path)
    assert data.user_ids == ["2", "10"], "numeric ids sort numerically"
    as_names = [[data.item_ids[i] for i in s] for s in data.sequences]
    assert as_names == [["y", "z"], ["x", "y", "z"]]
    assert data.timestamps is None and data.ratings is None


def test_load_inter_sorts_each_user_by_time(tmp_path) -> None:
    path = tmp_path / "m.inter"
    path.write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "7\tb\t5\t300\n7\ta\t3\t100\n7\tc\t4\t200\n",
        encoding="utf-8",
    )
    data = load_inter(path)
    assert [data.item_ids[i] for i in data.sequences[0]] == ["a", "c", "b"]
    assert data.ratings[0].tolist() == [3.0, 4.0, 5.0]
    assert data.timestamps[0].tolist() == [100.0, 200.0, 300.0]
    assert data.arrival[0].tolist() == [1, 2, 0], "file positions survive the sort"


@pytest.mark.parametrize(
    ("content", "loader"),
    [
        ("user item\n1\tx\n", load_inter),
        (
            "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\tx\t5\tsoon\n",
            load_inter,
        ),
        ("user_id:token\titem_id:token\n1 x\n", load_seq),
    ],
)
def test_malformed_files_raise_data_error(tmp_path, content, loader) -> None:
    path = tmp_path / "bad"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError):
        loader(path)


def test_missing_file_raises_data_error(tmp_path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_seq(tmp_path / "missing.txt")


# ---------------------------------------------------------------- splits


def test_leave_one_out_keeps_the_last_item_for_test(tmp_path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("1 a b c d\n2 e f\n3 g\n", encoding="utf-8")
    data = load_seq(path)
    names = data.item_ids
    test = leave_one_out(data, "test")
    assert [names[i] for i in test.histories[0]] == ["a", "b", "c"]
    assert [names[i] for i in test.targets[0]] == ["d"]
    validation = leave_one_out(data, "validation")
    assert [names[i] for i in validation.histories[0]] == ["a", "b"]
    assert [names[i] for i in validation.targets[0]] == ["c"]
    assert len(validation.targets[1]) == 0, "two items: nothing left to train on"
    assert len(test.targets[2]) == 0 and len(test.histories[2]) == 1
    folds, same_test = make_split(data, "loo")
    assert len(folds) == 1
    assert [t.tolist() for t in same_test.targets] == [t.tolist() for t in test.targets]


def test_ratio_split_is_75_25_per_user_and_seeded() -> None:
    histories = [np.arange(8), np.arange(10, 14), np.arange(20, 40)]
    first = ratio_split(histories, 40, seed=42)
    again = ratio_split(histories, 40, seed=42)
    other = ratio_split(histories, 40, seed=7)
    assert [len(h) for h in first.histories] == [6, 3, 15]
    assert [len(t) for t in first.targets] == [2, 1, 5]
    for user, history in enumerate(histories):
        train, test = first.histories[user], first.targets[user]
        assert sorted([*train, *test]) == history.tolist()
        assert list(train) == sorted(train), "training items keep their time order"
    assert [t.tolist() for t in first.targets] == [t.tolist() for t in again.targets]
    assert [t.tolist() for t in first.targets] != [t.tolist() for t in other.targets]


def test_ratio_validation_never_sees_test_items(tmp_path) -> None:
    data = load_inter(write_inter(tmp_path / "m.inter"))
    folds, test = make_split(data, "ratio", seed=42)
    assert len(folds) == 2
    for fold in folds:
        for user, history in enumerate(test.histories):
            seen = set(fold.histories[user]) | set(fold.targets[user])
            assert seen == set(history)
            assert not seen & set(test.targets[user])
        assert fold.timestamps is not None and fold.weights is not None


# --------------------------------------------------------------- metrics


def test_metrics_match_hand_computed_values() -> None:
    recommended = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 2, 3]])
    targets = [np.array([2]), np.array([7, 4]), np.array([0]), np.array([], dtype=int)]
    metrics = ranking_metrics(recommended, targets, n_items=20, k=3)
    # user 0: hit at rank 2; user 1: 1 of 2 relevant at rank 1; user 2: miss; user 3 skipped.
    ndcg_0 = (1 / np.log2(3)) / 1.0
    ndcg_1 = 1.0 / (1.0 + 1 / np.log2(3))
    assert metrics["hr@3"] == pytest.approx(2 / 3)
    assert metrics["ndcg@3"] == pytest.approx((ndcg_0 + ndcg_1) / 3)
    assert metrics["recall@3"] == pytest.approx((1 + 0.5) / 3)
    assert metrics["precision@3"] == pytest.approx((1 / 3 + 1 / 3) / 3)
    assert metrics["map"] == pytest.approx((0.5 / 1 + 1.0 / 2) / 3)
    assert metrics["coverage"] == pytest.approx(9 / 20)


def test_map_averages_precision_at_each_hit() -> None:
    metrics = ranking_metrics(np.array([[5, 1, 6, 2]]), [np.array([5, 6, 9])], n_items=10, k=4)
    # hits at ranks 1 and 3: (1/1 + 2/3) / 3 relevant
    assert metrics["map"] == pytest.approx((1 + 2 / 3) / 3)
    assert metrics["precision@4"] == pytest.approx(2 / 4)
    assert metrics["recall@4"] == pytest.approx(2 / 3)


def test_perfect_ranking_scores_one() -> None:
    metrics = ranking_metrics(np.array([[3, 4]]), [np.array([4, 3])], n_items=5, k=2)
    assert metrics["ndcg@2"] == pytest.approx(1.0)
    assert metrics["map"] == pytest.approx(1.0)


# ---------------------------------------------------------------- runner


def test_evaluate_ranks_the_next_step_of_the_walk(tmp_path) -> None:
    path = write_seq(tmp_path / "walks.txt")
    result = evaluate(path, "seq", "loo", k=2, model="ease")
    assert result["hr@2"] == pytest.approx(1.0)
    assert result["users"] == 40
    result = evaluate(path, "seq", "loo", k=2, model="pop")
    assert result["hr@2"] < 1.0


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_runs_under_the_evaluation(tmp_path, model) -> None:
    result = evaluate(write_inter(tmp_path / "m.inter"), "inter", "ratio", k=5, model=model)
    assert result["model"] == model
    assert 0.0 <= result["ndcg@5"] <= 1.0 and result["users"] == 20


def _figures(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "model" and not k.endswith("_s")}


@pytest.mark.parametrize(
    ("write", "fmt", "protocol"), [(write_seq, "seq", "loo"), (write_inter, "inter", "ratio")]
)
def test_without_a_catalog_the_served_ranker_measures_like_its_collaborative_part(
    tmp_path, write, fmt, protocol
) -> None:
    """Public data has no categories, relations or prices: the shop layer moves nothing, so the
    published figure of ``served`` is its collaborative part's (ratings read alike)."""
    path = write(tmp_path / "data")
    served, alone = (evaluate(path, fmt, protocol, model=m) for m in ("served", "session_blend"))
    assert served["model"] == "served" and _figures(served) == _figures(alone)


def test_the_served_ranker_reads_ratings(tmp_path) -> None:
    """Weights say how strongly an interaction speaks for an item: the shop's event weights,
    the ratings of rated data. Flattening the ratings changes the figures."""
    path = write_inter(tmp_path / "m.inter")
    lines = path.read_text(encoding="utf-8").splitlines()
    flat = [lines[0]] + ["\t".join([*r.split("\t")[:2], "3", r.split("\t")[3]]) for r in lines[1:]]
    same = tmp_path / "flat.inter"
    same.write_text("\n".join(flat) + "\n", encoding="utf-8")
    rated, flattened = (evaluate(p, "inter", "ratio", model="served") for p in (path, same))
    assert _figures(rated) != _figures(flattened)


def test_tuning_never_sees_test_items(tmp_path, monkeypatch) -> None:
    """Every fit of the served ranker's collaborative part, while tuning and after, trains on
    histories without the test items."""
    fits: list[list[np.ndarray]] = []
    original = SessionBlend.fit_sequences

    def spy(self, histories, n_items, weights=None, timestamps=None):
        fits.append([np.asarray(h).copy() for h in histories])
        return original(self, histories, n_items, weights, timestamps)

    monkeypatch.setattr(SessionBlend, "fit_sequences", spy)
    for data, protocol in ((load_seq(write_seq(tmp_path / "w.txt")), "loo"),
                           (load_inter(write_inter(tmp_path / "m.inter")), "ratio")):  # fmt: skip
        fits.clear()
        folds, test = make_split(data, protocol)
        result = run_model("served", folds, test, k=2)
        assert result["params"]["blend"]
        assert len(fits) == len(folds) + 1  # one fit per validation fold, then the real one
        for histories in fits:
            for user, history in enumerate(histories):
                assert not set(history.tolist()) & set(test.targets[user].tolist())


def test_evaluate_rejects_unknown_names(tmp_path) -> None:
    path = write_seq(tmp_path / "walks.txt")
    with pytest.raises(DataError):
        evaluate(path, "seq", "loo", model="nope")
    with pytest.raises(DataError):
        evaluate(path, "csv", "loo")
    with pytest.raises(DataError):
        evaluate(path, "seq", "kfold")


# ------------------------------------------------------------------- CLI


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = recs_cli.main(args)
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prints_one_json_object_for_seq(tmp_path, capsys) -> None:
    path = write_seq(tmp_path / "walks.txt")
    code, out, _ = run_cli(
        ["recs", "eval", "--data", str(path), "--format", "seq", "--protocol", "loo", "--k", "10"],
        capsys,
    )
    assert code == 0
    result = json.loads(out)
    assert set(result) >= REQUIRED_KEYS
    assert result["model"] == "served"  # the default: the ranker the shop serves
    assert 0.0 <= result["ndcg@10"] <= result["hr@10"] <= 1.0


def test_cli_prints_one_json_object_for_inter(tmp_path, capsys) -> None:
    path = write_inter(tmp_path / "m.inter")
    code, out, _ = run_cli(
        ["recs", "eval", "--data", str(path), "--format", "inter", "--protocol", "ratio"]
        + ["--model", "itemknn", "--seed", "3"],
        capsys,
    )
    assert code == 0
    result = json.loads(out)
    assert set(result) >= REQUIRED_KEYS
    assert result["model"] == "itemknn"
    assert result["users"] == 20


def test_cli_bad_path_exits_2_without_traceback(tmp_path, capsys) -> None:
    args = ["recs", "eval", "--data", str(tmp_path / "nope.txt"), "--format", "seq"]
    code, out, err = run_cli([*args, "--protocol", "loo"], capsys)
    assert code == 2
    assert out == ""
    assert "no such file" in err and "Traceback" not in err


def test_cli_bad_format_exits_2(tmp_path, capsys) -> None:
    path = write_seq(tmp_path / "walks.txt")
    code, _, err = run_cli(
        ["recs", "eval", "--data", str(path), "--format", "csv", "--protocol", "loo"], capsys
    )
    assert code == 2
    assert "--format" in err
    inter_as_seq = write_inter(tmp_path / "m.inter")
    code, _, err = run_cli(
        ["recs", "eval", "--data", str(inter_as_seq), "--format", "seq", "--protocol", "loo"],
        capsys,
    )
    assert code == 2 and "seq format" in err


def test_cli_as_a_process_exits_2_on_bad_path(tmp_path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "daogou.recs_cli", "recs", "eval", "--data", str(tmp_path / "x")]
        + ["--format", "inter", "--protocol", "ratio"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "error" in completed.stderr and "Traceback" not in completed.stderr
