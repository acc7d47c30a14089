"""The `daogou` command: the single steps behind `make run` and `make test`."""

from __future__ import annotations

import argparse
import sys

from daogou.ab_cli import add_ab_parser
from daogou.backup_cli import add_backup_parser
from daogou.container import build_services
from daogou.privacy import add_privacy_parser
from daogou.recs_cli import add_recs_parser
from daogou.settings import get_settings
from daogou.status_cli import add_status_parser


def _db_init(args: argparse.Namespace) -> int:
    from daogou.db import init_database

    store = init_database(get_settings())
    print(f"database ready, catalog version {store.version()}")
    return 0


def _users_create(args: argparse.Namespace) -> int:
    from web.accounts import AccountError, create_account

    store = build_services(get_settings()).store
    try:
        create_account(store, args.username, args.password, args.role, args.merchant_id)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {args.role} account {args.username}")
    return 0


def _models_build(args: argparse.Namespace) -> int:
    from search.embeddings import ensure_model_folder, model_folder

    folder = ensure_model_folder(model_folder(get_settings().models_dir))
    print(f"embedding model ready in {folder}")
    return 0


def _bot_prepare(args: argparse.Namespace) -> int:
    from daogou.nlu import botprep

    settings = get_settings()
    out = botprep.prepare(settings, build_services(settings).store)
    print(f"bot inputs written to {out}")
    return 0


def _bot_train(args: argparse.Namespace) -> int:
    from daogou.nlu import botprep
    from daogou.prewarm import prepared_alongside

    settings = get_settings()
    botprep.prepare(settings, build_services(settings).store)
    with prepared_alongside(settings):  # the services' first start then only loads it
        trained = botprep.train(settings, force=args.force)
    print("model trained" if trained else "model is current, not retrained")
    return 0


def _bot_validate(args: argparse.Namespace) -> int:
    from daogou.nlu import botprep

    botprep.validate(get_settings())
    return 0


def _bot_test_nlu(args: argparse.Namespace) -> int:
    from daogou.nlu import botprep

    print(f"NLU reports in {botprep.evaluate_heldout(get_settings())}")
    return 0


def _bot_retrain(args: argparse.Namespace) -> int:
    from daogou.nlu import botprep, retrain

    settings = get_settings()
    saw_heldout = retrain.botprep_saw_heldout(settings)  # before var/bot is prepared again
    botprep.prepare(settings, build_services(settings).store)
    report = retrain.retrain(
        retrain.bot_project(settings, saw_heldout),
        botprep.model_path(settings),
        args.rasa_url or [settings.rasa_url],
        token=settings.rasa_token,
        dry_run=args.dry_run,
    )
    print(retrain.summary(report))
    return 0 if report["decision"] == retrain.ACCEPTED else 1


def _run(args: argparse.Namespace) -> int:
    from daogou.launcher import run_all

    run_all(get_settings(), profile=args.profile)
    return 0


def add_db_parser(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("init", help="migrate and load the seed catalog if empty").set_defaults(
        func=_db_init
    )


def add_users_parser(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="console accounts").add_subparsers(
        dest="action", required=True
    )
    create = users.add_parser("create", help="create a console account")
    create.add_argument("--role", required=True, choices=["staff", "merchant", "admin"])
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--merchant-id")
    create.set_defaults(func=_users_create)


def add_models_parser(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="model caches").add_subparsers(
        dest="action", required=True
    )
    models.add_parser("build", help="build the offline embedding model").set_defaults(
        func=_models_build
    )


def add_bot_parser(subparsers: argparse._SubParsersAction) -> None:
    bot = subparsers.add_parser("bot", help="the Rasa project").add_subparsers(
        dest="action", required=True
    )
    bot.add_parser("prepare", help="write var/bot from the catalog").set_defaults(func=_bot_prepare)
    train = bot.add_parser("train", help="prepare and train when inputs changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(func=_bot_train)
    bot.add_parser("validate", help="rasa data validate on the training files").set_defaults(
        func=_bot_validate
    )
    bot.add_parser("test-nlu", help="rasa test nlu on the held-out examples").set_defaults(
        func=_bot_test_nlu
    )
    retrain = bot.add_parser(
        "retrain",
        help="train on the console's annotations; serve the model only if it is not worse "
        "(exit 1 when refused)",
    )
    retrain.add_argument(
        "--rasa-url", action="append", help="a Rasa server to load the accepted model into "
        "(repeat for each; default RASA_URL)",
    )  # fmt: skip
    retrain.add_argument("--dry-run", action="store_true", help="train and score, load nothing")
    retrain.set_defaults(func=_bot_retrain)


def add_run_parser(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="start every service")
    run.add_argument(
        "--profile",
        choices=["default", "cluster"],
        default="default",
        help="default: one of each service on SQLite (make run); cluster: Rasa and action-server "
        "replicas behind nginx on PostgreSQL and Redis (make cluster, daogou/cluster.py)",
    )
    run.set_defaults(func=_run)


# One adder per command group, each in the same shape (``daogou/recs_cli.py`` holds the
# recommender's, which has more options).
COMMAND_GROUPS = [
    add_db_parser,
    add_users_parser,
    add_models_parser,
    add_bot_parser,
    add_run_parser,
    add_status_parser,
    add_recs_parser,
    add_privacy_parser,
    add_ab_parser,
    add_backup_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="daogou", description="导购 Daogou command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add_group in COMMAND_GROUPS:
        add_group(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
