"""Runtime settings, read from environment variables with embedded defaults.

Every process (web app, action server, CLI) builds its settings the same way, so
pointing them all at PostgreSQL is one `DATABASE_URL`. This is the only module that reads
the environment; everything below `daogou/` gets what it needs passed in
(`daogou/container.py`).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cn_text.ratelimit import Rate, TrustedProxies

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    tracker_db_url: str
    redis_url: str | None
    rasa_url: str
    action_server_url: str
    web_port: int
    rasa_port: int
    action_port: int
    # Threads for embedding a query: 2 answers fastest when the process has the machine to
    # itself; the launcher gives the action server 1, since Rasa uses the other core.
    query_threads: int = 2
    # Handoff to a person (knowledge_graph/handoff.py): seconds a request waits for staff
    # before the shopper is offered to leave a message or go back to the bot; staff's hours
    # in shop time (China Standard Time; "" = always); the shop's webhook for new requests and
    # left messages (None = none).
    handoff_wait_seconds: float = 180.0
    service_hours: str = "09:00-21:00"
    handoff_webhook_url: str | None = None
    # Where the staff console exports annotations as NLU training data (None: the bot's own
    # bot/data/nlu/console_annotations.yml); tests point it outside the repository.
    annotations_file: Path | None = None
    # Seconds Rasa waits for a custom action (bot/patches/action_timeout.py) before telling the
    # shopper politely that it cannot be done right now: 2.5 keeps the whole reply within 3 s.
    action_timeout_seconds: float = 2.5
    # The chat channels' guard (bot/channels/guard.py): rate limits as "N/S" (N messages at once,
    # N more every S seconds; "off") per verified shopper and per client address; the reverse
    # proxies whose X-Forwarded-For is believed; the sensitive-word list. A person types at most
    # about a message a second; one address may be an office or a carrier's NAT full of shoppers.
    chat_rate_per_shopper: str = "10/10"
    chat_rate_per_ip: str = "60/10"
    trusted_proxies: tuple[str, ...] = ()
    sensitive_words_file: Path = REPO_ROOT / "data" / "moderation" / "sensitive_words.txt"
    # Retention (daogou/retention.py): conversations and shopper events older than this many
    # days are removed (0 = kept for ever), daily at this shop time by the web app ("" = not by
    # the web app: the shop runs `daogou privacy retain` from cron).
    retention_days: int = 365
    retention_at: str = "03:30"
    # The recommender's gated retrain (recommender/gate.py, `daogou recs train`): daily at this
    # shop time by the web app ("" = only from the command line or cron), judged on the events
    # of the last this-many days, which the candidate is not trained on.
    recs_train_at: str = "04:00"
    recs_holdout_days: float = 7.0
    # A/B test of rankers (recommender/ab.py): the arms' names ("" = no test, everyone gets the
    # served ranker), and the experiment's name, which salts the stable hash of shopper ids.
    ab_arms: tuple[str, ...] = ()
    ab_experiment: str = "ranker"
    # Logs under var/logs rotate at this size, keeping this many older files.
    log_max_bytes: int = 20 * 1024 * 1024
    log_backups: int = 5
    # GET /metrics (web app, action server) wants `Authorization: Bearer <token>` when set.
    metrics_token: str | None = None
    # `daogou backup` writes here unless told otherwise.
    backup_dir: Path | None = None
    # The cluster profile (`daogou run --profile cluster`, daogou/cluster.py): replicas of Rasa
    # and of the action server behind nginx, its public ports, and the TLS certificate and key
    # (None: a self-signed pair generated once under var/cluster/tls/). The URL browsers reach
    # Rasa at (the widget's data-rasa-url; None: rasa_url).
    cluster_rasa_replicas: int = 2
    cluster_action_replicas: int = 2
    cluster_http_port: int = 8080
    cluster_https_port: int = 8443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_rasa_url: str | None = None
    # The search index folder under var/index/ (default: the process kind): each action-server
    # replica of the cluster profile gets its own, since two building one at once corrupt it.
    index_name: str | None = None

    @property
    def review_index_url(self) -> str:
        """The staff console's index of Rasa's tracker table: its own SQLite file by default,
        beside the catalog on PostgreSQL (its tables are named review_*)."""
        if self.database_url.startswith("sqlite"):
            return _sqlite_url(self.var_dir / "review_index.db")
        return self.database_url

    @property
    def models_dir(self) -> Path:
        """Model caches (the converted embedding model)."""
        return self.var_dir / "models"

    @property
    def rasa_token(self) -> str:
        return rasa_token(self.var_dir)

    @property
    def shopper_key(self) -> str:
        """The key that signs shoppers' identities (web/identity.py) and that Rasa's channels
        verify them with (the launcher renders it into var/bot/credentials.yml)."""
        return shopper_key(self.var_dir)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings() -> Settings:
    var_dir = Path(os.environ.get("DAOGOU_VAR", REPO_ROOT / "var")).resolve()
    rasa_port = int(os.environ.get("DAOGOU_RASA_PORT", "5005"))
    action_port = int(os.environ.get("DAOGOU_ACTION_PORT", "5055"))
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL") or _sqlite_url(var_dir / "daogou.db"),
        tracker_db_url=os.environ.get("TRACKER_DB_URL") or _sqlite_url(var_dir / "tracker.db"),
        redis_url=os.environ.get("REDIS_URL") or None,
        rasa_url=os.environ.get("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        action_server_url=os.environ.get(
            "ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"
        ),
        web_port=int(os.environ.get("DAOGOU_WEB_PORT", "8000")),
        rasa_port=rasa_port,
        action_port=action_port,
        query_threads=int(os.environ.get("DAOGOU_QUERY_THREADS") or 2),
        handoff_wait_seconds=float(os.environ.get("DAOGOU_HANDOFF_WAIT_SECONDS") or 180),
        service_hours=os.environ.get("DAOGOU_SERVICE_HOURS", "09:00-21:00").strip(),
        handoff_webhook_url=os.environ.get("DAOGOU_HANDOFF_WEBHOOK_URL") or None,
        annotations_file=Path(f) if (f := os.environ.get("DAOGOU_ANNOTATIONS_FILE")) else None,
        action_timeout_seconds=float(os.environ.get("DAOGOU_ACTION_TIMEOUT_SECONDS") or 2.5),
        chat_rate_per_shopper=_rate("DAOGOU_CHAT_RATE_PER_SHOPPER", "10/10"),
        chat_rate_per_ip=_rate("DAOGOU_CHAT_RATE_PER_IP", "60/10"),
        trusted_proxies=_trusted_proxies(os.environ.get("DAOGOU_TRUSTED_PROXIES", "")),
        sensitive_words_file=Path(
            os.environ.get("DAOGOU_SENSITIVE_WORDS")
            or REPO_ROOT / "data" / "moderation" / "sensitive_words.txt"
        ).resolve(),
        retention_days=max(0, int(os.environ.get("DAOGOU_RETENTION_DAYS", "365").strip() or 0)),
        retention_at=os.environ.get("DAOGOU_RETENTION_AT", "03:30").strip(),
        recs_train_at=os.environ.get("DAOGOU_RECS_TRAIN_AT", "04:00").strip(),
        recs_holdout_days=float(os.environ.get("DAOGOU_RECS_HOLDOUT_DAYS") or 7),
        ab_arms=tuple(a for a in re.split(r"[,\s]+", os.environ.get("DAOGOU_AB_ARMS", "")) if a),
        ab_experiment=os.environ.get("DAOGOU_AB_EXPERIMENT", "ranker").strip() or "ranker",
        log_max_bytes=int(os.environ.get("DAOGOU_LOG_MAX_BYTES") or 20 * 1024 * 1024),
        log_backups=int(os.environ.get("DAOGOU_LOG_BACKUPS") or 5),
        metrics_token=os.environ.get("DAOGOU_METRICS_TOKEN") or None,
        backup_dir=Path(b).resolve() if (b := os.environ.get("DAOGOU_BACKUP_DIR")) else None,
        cluster_rasa_replicas=int(os.environ.get("DAOGOU_CLUSTER_RASA_REPLICAS") or 2),
        cluster_action_replicas=int(os.environ.get("DAOGOU_CLUSTER_ACTION_REPLICAS") or 2),
        cluster_http_port=int(os.environ.get("DAOGOU_CLUSTER_HTTP_PORT") or 8080),
        cluster_https_port=int(os.environ.get("DAOGOU_CLUSTER_HTTPS_PORT") or 8443),
        tls_cert=Path(c).resolve() if (c := os.environ.get("DAOGOU_TLS_CERT")) else None,
        tls_key=Path(k).resolve() if (k := os.environ.get("DAOGOU_TLS_KEY")) else None,
        public_rasa_url=os.environ.get("DAOGOU_PUBLIC_RASA_URL") or None,
        index_name=os.environ.get("DAOGOU_INDEX_NAME", "").strip() or None,
    )


def _rate(variable: str, default: str) -> str:
    """A chat rate from the environment, checked here so that a typo stops the start with its
    name rather than inside Rasa."""
    value = os.environ.get(variable, "").strip() or default
    try:
        Rate.parse(value)
    except ValueError as error:
        raise ValueError(f"{variable}: {error}") from None
    return value


def _trusted_proxies(text: str) -> tuple[str, ...]:
    """`DAOGOU_TRUSTED_PROXIES`: addresses or networks, separated by commas or spaces."""
    try:
        proxies = TrustedProxies.parse(text)
    except ValueError as error:
        raise ValueError(f"DAOGOU_TRUSTED_PROXIES: {error}") from None
    return tuple(str(network) for network in proxies.networks)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def rasa_token(var_dir: Path) -> str:
    """`RASA_TOKEN`, or a random token generated once into var/rasa_token."""
    return os.environ.get("RASA_TOKEN") or _secret_file(var_dir / "rasa_token")


def shopper_key(var_dir: Path) -> str:
    """`DAOGOU_SHOPPER_KEY`, or a random key generated once into var/shopper_key.

    A shop that signs its own shoppers' tokens (README, *Shopper identity*) sets the same key
    here and on its own servers; HS256 wants at least 32 bytes of it.
    """
    return os.environ.get("DAOGOU_SHOPPER_KEY") or _secret_file(var_dir / "shopper_key")


def _secret_file(path: Path) -> str:
    """The secret in `path`, created once with 32 random bytes, readable by the owner only.

    Written to a temporary file and linked into place, so that processes starting together
    (the launcher, the web app, a test run beside a benchmark) all read the one secret that
    won, never a half-written or a second one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temporary.unlink()
    return path.read_text().strip()
