"""``daogou recs ...``: offline evaluation and the gated retrain of the recommender.

``daogou recs eval --data PATH --format seq|inter --protocol loo|ratio --k 10
[--model NAME] [--seed 42]`` prints one JSON object of metrics to stdout. The default
model is ``served``, the ranker the shop serves (``recommender.cf.served``); the
others are the baselines (``pop``, ``itemknn``, ``als``, ``ease``) and ``session_blend``,
the served ranker's collaborative part alone.
Bad input (missing file, wrong format) prints one line to stderr and exits 2.

``daogou recs train [--ungated] [--tolerance X] [--holdout-days D] [--engine inprocess|spark]``
retrains the served recommender from the event store through the gate of
``recommender/gate.py``: a fresh model replaces the served one only if it is not worse on the
events of the last D days (default ``DAOGOU_RECS_HOLDOUT_DAYS``), and prints both models'
HR@10 and NDCG@10 and the decision. Running services load a published model on their next
request, without a restart. Exit codes: 0 published (accepted, or ``--ungated``), 3 refused
(the served model stays; the candidate is kept under var/recs/candidates), 1 another training
is running, 2 bad input. The web app runs the same gate daily at ``DAOGOU_RECS_TRAIN_AT``
(web/recs_loop.py, through :func:`train_scheduled`); one training runs at a time across
processes (a file lock in var/recs/, and a PostgreSQL advisory lock when the catalog is there).

``daogou recs reports [--last N]`` prints the newest N reports (default 5), newest first, as
one JSON array.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from daogou.locks import advisory_lock, file_lock
from recommender.cf import MODEL_NAMES, SERVED_MODEL
from recommender.evaluation import FORMATS, PROTOCOLS, DataError, evaluate
from recommender.gate import (
    GATE_METRICS,
    GateResult,
    TrainingBusy,
    ran_since,
    read_reports,
    run_gate,
    train_ungated,
)
from recommender.recommendations import default_model_path, engine_option

if TYPE_CHECKING:
    from daogou.container import Services
    from daogou.settings import Settings

EXIT_BUSY = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
ALS_ENGINES = ("inprocess", "spark")
LOCK_FILE = ".train.lock"  # in var/recs/, beside the served model
PG_LOCK_KEY = zlib.crc32(b"daogou.recs_train")  # the advisory lock's number

SubcommandAdder = Callable[[argparse._SubParsersAction], None]


def add_eval_parser(recs_subparsers: argparse._SubParsersAction) -> None:
    evaluate_parser = recs_subparsers.add_parser(
        "eval",
        help="evaluate a recommendation model offline on public data",
        description="Split the data, tune on validation, fit, and print test metrics as JSON.",
    )
    evaluate_parser.add_argument("--data", required=True, help="interaction file")
    evaluate_parser.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="seq: 'user item item ...' per line; inter: RecBole atomic .inter file",
    )
    evaluate_parser.add_argument(
        "--protocol",
        required=True,
        choices=PROTOCOLS,
        help="loo: last item is test; ratio: 75/25 random split per user",
    )
    evaluate_parser.add_argument("--k", type=int, default=10, help="cut-off (default 10)")
    evaluate_parser.add_argument(
        "--model",
        choices=MODEL_NAMES,
        default=SERVED_MODEL,
        help=f"model (default: {SERVED_MODEL}, the ranker the shop serves)",
    )
    evaluate_parser.add_argument("--seed", type=int, default=42, help="split seed (default 42)")
    evaluate_parser.set_defaults(func=run_eval)


def add_train_parser(recs_subparsers: argparse._SubParsersAction) -> None:
    train = recs_subparsers.add_parser(
        "train",
        help="retrain the shop's recommender; publish it only if it is not worse",
        description="Fit a fresh model and the served model's configuration on the events "
        "before a recent window, score both on the window (HR@10, NDCG@10), and publish the "
        "fresh one, refitted on every event, only if it is not worse. Exit 0: published; "
        "3: refused (the served model stays); 1: another training is running.",
    )
    train.add_argument(
        "--ungated", action="store_true", help="publish without comparing (the old behaviour)"
    )
    train.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="how much worse the new model may be on each metric (default 0; negative: it "
        "must be better by that much)",
    )
    train.add_argument(
        "--holdout-days",
        type=float,
        default=None,
        help="the window of recent events to judge on (default DAOGOU_RECS_HOLDOUT_DAYS)",
    )
    train.add_argument(
        "--engine",
        choices=ALS_ENGINES,
        default="inprocess",
        help="where ALS trains (spark: pyspark MLlib, for large event logs)",
    )
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """The gated retrain (module docstring); prints a short summary."""
    try:
        engine_option(args.engine)
    except ValueError as error:
        print(f"daogou recs train: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.holdout_days is not None and args.holdout_days <= 0:
        print("daogou recs train: error: --holdout-days must be positive", file=sys.stderr)
        return EXIT_BAD_INPUT
    services = _services()
    holdout_days = args.holdout_days or services.settings.recs_holdout_days
    try:
        with training_lease(services.settings) as held:
            if not held:
                raise TrainingBusy("another recommender training is running")
            service = services.recommendations()
            if args.ungated:
                result = train_ungated(service, als_engine=args.engine)
            else:
                result = run_gate(
                    service,
                    holdout_days=holdout_days,
                    tolerance=args.tolerance,
                    als_engine=args.engine,
                )
    except TrainingBusy as error:
        print(f"daogou recs train: {error}", file=sys.stderr)
        return EXIT_BUSY
    print(summary(result))
    return 0 if result.accepted else EXIT_REFUSED


def train_scheduled(services: Services, scheduled: datetime) -> GateResult | None:
    """The web app's daily run (web/recs_loop.py): the gate with the settings' window. None when
    a run has started since ``scheduled`` (another replica on this var/ had it); raises
    :class:`TrainingBusy` while another process trains (the loop tries again later)."""
    settings = services.settings
    with training_lease(settings) as held:
        if not held:
            raise TrainingBusy("another recommender training is running")
        if ran_since(default_model_path(settings.var_dir).parent, scheduled):
            return None
        return run_gate(services.recommendations(), holdout_days=settings.recs_holdout_days)


def summary(result: GateResult) -> str:
    """A few lines for a person: the decision, the window and both models' metrics."""
    lines = [f"recommender {result.decision}: {result.reason}"]
    holdout = result.holdout
    if holdout is not None:
        where = (
            f"events from {holdout['start']} to {holdout['end']}"
            if holdout["method"] == "time_window"
            else "each shopper's newest product"
        )
        lines.append(
            f"judged on {where}: {holdout['shoppers_judged']} shoppers, "
            f"{holdout['held_out_events']} held-out events, {holdout['train_events']} trained on"
        )
        if holdout["note"]:
            lines.append(f"note: {holdout['note']}")
        lines.append(f"{'':10}" + "".join(f"{name.upper():>10}" for name in GATE_METRICS))
        for role, score in (("candidate", result.candidate), ("serving", result.serving)):
            if score is not None:
                values = "".join(f"{score.metrics[name]:>10.4f}" for name in GATE_METRICS)
                lines.append(f"{role:10}{values}")
    if result.published:
        lines.append(f"published: {result.published}")
    if result.candidate_file:
        lines.append(f"kept the served model; candidate written to {result.candidate_file}")
    lines.append(f"report: {result.report_path}")
    return "\n".join(lines)


def add_reports_parser(recs_subparsers: argparse._SubParsersAction) -> None:
    reports = recs_subparsers.add_parser(
        "reports", help="print the newest training reports as JSON (newest first)"
    )
    reports.add_argument("--last", type=int, default=5, help="how many (default 5)")
    reports.set_defaults(func=run_reports)


def run_reports(args: argparse.Namespace) -> int:
    if args.last < 1:
        print("daogou recs reports: error: --last must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    folder = default_model_path(_services().settings.var_dir).parent
    print(json.dumps(read_reports(folder, args.last), ensure_ascii=False, indent=2))
    return 0


def _services() -> Services:
    from daogou.container import build_services
    from daogou.settings import get_settings

    return build_services(get_settings())


# -- one training at a time ---------------------------------------------------------------------


@contextmanager
def training_lease(settings: Settings) -> Iterator[bool]:
    """Whether this process may train now; held for the block. A file lock in var/recs/ (the
    processes sharing the served model file) and, with the catalog on PostgreSQL, a session
    advisory lock there too (replicas on other machines). Both end with their process, so a
    crashed training never blocks the next one."""
    with ExitStack() as stack:
        folder = default_model_path(settings.var_dir).parent
        held = stack.enter_context(file_lock(folder / LOCK_FILE))
        if held and sa.make_url(settings.database_url).get_backend_name() == "postgresql":
            held = stack.enter_context(advisory_lock(settings.database_url, PG_LOCK_KEY))
        yield held


RECS_SUBCOMMANDS: list[SubcommandAdder] = [add_eval_parser, add_train_parser, add_reports_parser]


def add_recs_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``recs`` and its subcommands to the ``daogou`` CLI's subparsers."""
    recs_parser = subparsers.add_parser(
        "recs", help="recommendation models: offline evaluation, gated retraining"
    )
    recs_subparsers = recs_parser.add_subparsers(dest="recs_command", metavar="COMMAND")
    recs_subparsers.required = True
    for add_subcommand in RECS_SUBCOMMANDS:
        add_subcommand(recs_subparsers)


def run_eval(args: argparse.Namespace) -> int:
    """Print the metrics as one JSON object; bad input exits 2 with a one-line message."""
    try:
        result = evaluate(
            args.data,
            args.format,
            args.protocol,
            k=args.k,
            model=args.model,
            seed=args.seed,
        )
    except DataError as error:
        print(f"daogou recs eval: error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    print(json.dumps(result, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m daogou.recs_cli recs eval ...``)."""
    parser = argparse.ArgumentParser(prog="daogou")
    add_recs_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
