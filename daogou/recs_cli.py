"""``daogou recs ...``: offline evaluation of the recommendation models.

``daogou recs eval --data PATH --format seq|inter --protocol loo|ratio --k 10
[--model NAME] [--seed 42]`` prints one JSON object of metrics to stdout. The default
model is ``served``, the ranker the shop serves (``recommender.cf.served``); the
others are the baselines (``pop``, ``itemknn``, ``als``, ``ease``) and ``session_blend``,
the served ranker's collaborative part alone.
Bad input (missing file, wrong format) prints one line to stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from recommender.cf import MODEL_NAMES, SERVED_MODEL
from recommender.evaluation import FORMATS, PROTOCOLS, DataError, evaluate

EXIT_BAD_INPUT = 2

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


# Later subcommands (``recs train`` ...) append their adder here.
def add_train_parser(recs_subparsers: argparse._SubParsersAction) -> None:
    train = recs_subparsers.add_parser("train", help="retrain the shop's recommender on all events")
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Full retraining; running services load the new model on their next request."""
    from daogou.container import build_services
    from daogou.settings import get_settings

    services = build_services(get_settings())
    saved = services.recommendations().save()
    print(f"recommender trained on {services.events.count()} events: {saved}")
    return 0


RECS_SUBCOMMANDS: list[SubcommandAdder] = [add_eval_parser, add_train_parser]


def add_recs_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``recs`` and its subcommands to the ``daogou`` CLI's subparsers."""
    recs_parser = subparsers.add_parser("recs", help="recommendation models: offline evaluation")
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
