"""The cluster profile: Rasa and action-server replicas behind a private nginx, on PostgreSQL
and Redis (`daogou run --profile cluster`, `make cluster`).

What runs (ports are the defaults; each is a setting, daogou/settings.py):

    browsers, shops' scripts ──▶ nginx :8080 (http), :8443 (https, TLS ends here)
                                   /socket.io/, /webhooks/rest/ ─▶ upstream rasa (sticky)
                                   everything else              ─▶ web app :8000
    web app, tools (RASA_URL) ──▶ nginx 127.0.0.1:5005 ─▶ upstream rasa: rasa-1 :5006, rasa-2 :5007
    Rasa replicas (ACTION_SERVER_URL) ─▶ nginx 127.0.0.1:5055 ─▶ actions-1 :5056, actions-2 :5057

Replica i of Rasa listens on DAOGOU_RASA_PORT + i and of the action server on
DAOGOU_ACTION_PORT + i, on 127.0.0.1 only; DAOGOU_CLUSTER_RASA_REPLICAS and
DAOGOU_CLUSTER_ACTION_REPLICAS (default 2 each) say how many.

nginx is Debian's (`make cluster-packages`), run as a private instance: its own prefix,
configuration, pid file and temporary folders under var/cluster/nginx/, its logs in
var/logs/cluster/ beside the services' own, started in the foreground as one of the launcher's
children. The system service the package may have started on port 80 is never used.

Choices, with the reasons:
- Stickiness: `hash $sticky_key consistent`. `ip_hash` hashes only the first three octets of an
  IPv4 address, so every client of this machine (127.0.0.x) would land on one replica and prove
  nothing. The key is, first found: the widget's stable per-browser `client_key` query parameter
  (every Engine.IO polling request and the WebSocket upgrade carry it, so a Socket.IO session
  stays on the replica that holds its sid); the Authorization header (a REST client's shopper
  token); the shopper cookie; else a `daogou_route` cookie set on the first Socket.IO response to
  a client that sent none of them (another Socket.IO client), whose later requests then follow
  it (deploy/nginx/daogou.conf does the same for containers). Stickiness only keeps a replica's
  warm tracker copy useful for REST: correctness never depends on it, since every replica reads
  the conversation from the shared tracker store (bot/tracker_store.py checks the latest event
  id) and takes the conversation's lock in Redis (bot/lock_store.py).
- Actions: round robin (the action server keeps no conversation state).
- A dead replica: `proxy_next_upstream error timeout` (nginx's default, written out). A refused
  connection never reached the replica, so nginx retries the request on the next replica, a
  shopper's POST included; nginx never retries a POST that reached a replica
  (`non_idempotent` is deliberately absent): a turn that a replica may have processed before it
  died must not run twice. `max_fails=1 fail_timeout=10s` then keeps the dead replica out for
  10 s at a time, and consistent hashing moves only its keys.
- WebSocket: `Upgrade`/`Connection` passed through (`map $http_upgrade $connection_upgrade`),
  an hour's read timeout on /socket.io/ (Engine.IO pings every 25 s), and upstream keep-alive
  otherwise.
- Client addresses: the public listener replaces X-Forwarded-For with the peer (it is the edge);
  the loopback listener appends (the web app sends its shopper's address). The replicas
  believe X-Forwarded-For from 127.0.0.1 (`trusted_proxies`), so the chat's per-address limit
  sees shoppers, not nginx.
- Only the loopback listeners add `X-Upstream` (which replica answered) to responses; the access
  log records it too, with paths but never query strings (they may carry the Rasa token).
- TLS: DAOGOU_TLS_CERT and DAOGOU_TLS_KEY (PEM), or else a self-signed pair for localhost and
  127.0.0.1 generated once with openssl into var/cluster/tls/cert.pem and key.pem (a client
  trusts it with that cert.pem as its CA file, e.g. `curl --cacert var/cluster/tls/cert.pem`).

Storage: PostgreSQL for the catalog and for Rasa's tracker store, in two databases because both
create a table named `events`: DATABASE_URL and TRACKER_DB_URL when they name PostgreSQL, else
`daogou_catalog` and `daogou_tracker` on 127.0.0.1:5432 (user postgres). They are created when
missing and the catalog is migrated and seeded as `daogou db init` does. Redis (REDIS_URL,
default redis://127.0.0.1:6379/0) holds the conversation locks and shares Socket.IO rooms.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from daogou.settings import Settings

DEFAULT_CATALOG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/daogou_catalog"
DEFAULT_TRACKER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/daogou_tracker"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOOPBACK = "127.0.0.1"
STICKY_QUERY_KEY = "client_key"  # the widget's io() query (web/static/widget/widget.js)


@dataclass(frozen=True)
class Topology:
    """Every port of the cluster."""

    http_port: int
    https_port: int
    rasa_lb_port: int  # nginx, loopback: the Rasa replicas (the web app's RASA_URL)
    action_lb_port: int  # nginx, loopback: the action servers (Rasa's ACTION_SERVER_URL)
    web_port: int
    rasa_ports: tuple[int, ...]
    action_ports: tuple[int, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        """Replica i on the load balancer's port + i (module docstring)."""
        rasa, actions = settings.rasa_port, settings.action_port
        return cls(
            http_port=settings.cluster_http_port,
            https_port=settings.cluster_https_port,
            rasa_lb_port=rasa,
            action_lb_port=actions,
            web_port=settings.web_port,
            rasa_ports=tuple(rasa + i for i in range(1, settings.cluster_rasa_replicas + 1)),
            action_ports=tuple(actions + i for i in range(1, settings.cluster_action_replicas + 1)),
        )

    def all_ports(self) -> list[int]:
        return [
            self.http_port, self.https_port, self.rasa_lb_port, self.action_lb_port,
            self.web_port, *self.rasa_ports, *self.action_ports,
        ]  # fmt: skip


@dataclass(frozen=True)
class NginxFiles:
    prefix: Path
    conf: Path
    log_dir: Path
    cert: Path
    key: Path

    @property
    def pid(self) -> Path:
        return self.prefix / "nginx.pid"


def cluster_dir(settings: Settings) -> Path:
    return settings.var_dir / "cluster"


def log_dir(settings: Settings) -> Path:
    return settings.var_dir / "logs" / "cluster"


# -- storage -------------------------------------------------------------------------------------
def _postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _with_psycopg(url: str) -> str:
    """The 3.11 environment's PostgreSQL driver is psycopg 3 (the Rasa side strips the driver:
    daogou/nlu/botprep.py)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def storage_urls(settings: Settings) -> tuple[str, str, str]:
    """(catalog, tracker store, Redis) for the cluster (module docstring, *Storage*)."""
    catalog = settings.database_url if _postgres(settings.database_url) else DEFAULT_CATALOG_URL
    tracker = settings.tracker_db_url if _postgres(settings.tracker_db_url) else DEFAULT_TRACKER_URL
    catalog, tracker = _with_psycopg(catalog), _with_psycopg(tracker)
    if _same_database(make_url(catalog), make_url(tracker)):
        raise SystemExit(
            "DATABASE_URL and TRACKER_DB_URL name one database: the catalog's shopper events and "
            "Rasa's tracker both have a table named `events`. Give the tracker its own database."
        )
    return catalog, tracker, settings.redis_url or DEFAULT_REDIS_URL


def _same_database(a: URL, b: URL) -> bool:
    return (a.host, a.port or 5432, a.database) == (b.host, b.port or 5432, b.database)


def ensure_database(url: str) -> bool:
    """Creates the database of `url` on its server when missing; True if it created it.
    Connects to the server's `postgres` database as the same user."""
    target = make_url(url)
    admin = sa.create_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).scalar()
            if exists:
                return False
            quoted = admin.dialect.identifier_preparer.quote(target.database)
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    except sa.exc.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL does not answer at {target.host}:{target.port or 5432} ({error.orig}). "
            "Start it (Debian: pg_ctlcluster --skip-systemctl-redirect 15 main start) "
            "or point DATABASE_URL and TRACKER_DB_URL at a running server."
        ) from None
    finally:
        admin.dispose()


def redis_answers(url: str, timeout: float = 2.0) -> bool:
    """A PING over a plain socket (the 3.11 environment has no Redis client of its own)."""
    import socket

    parsed = make_url(url)
    try:
        with socket.create_connection(
            (parsed.host or LOOPBACK, parsed.port or 6379), timeout=timeout
        ) as sock:
            if parsed.password:
                sock.sendall(f"AUTH {parsed.password}\r\n".encode())
                sock.recv(64)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def cluster_settings(settings: Settings, topology: Topology) -> Settings:
    """What every process of the cluster is configured with."""
    catalog, tracker, redis = storage_urls(settings)
    trusted = tuple(dict.fromkeys((*settings.trusted_proxies, f"{LOOPBACK}/32")))
    return dataclasses.replace(
        settings,
        database_url=catalog,
        tracker_db_url=tracker,
        redis_url=redis,
        rasa_port=topology.rasa_lb_port,
        action_port=topology.action_lb_port,
        web_port=topology.web_port,
        rasa_url=f"http://{LOOPBACK}:{topology.rasa_lb_port}",
        action_server_url=f"http://{LOOPBACK}:{topology.action_lb_port}/webhook",
        trusted_proxies=trusted,
        public_rasa_url=settings.public_rasa_url or f"https://localhost:{topology.https_port}",
    )


def public_origins(topology: Topology) -> list[str]:
    """Pages that may open the widget's Socket.IO connection: the web app's own and nginx's."""
    return [
        f"{scheme}://{host}:{port}"
        for scheme, port in (
            ("http", topology.web_port),
            ("http", topology.http_port),
            ("https", topology.https_port),
        )
        for host in ("localhost", LOOPBACK)
    ]


# -- TLS -----------------------------------------------------------------------------------------
def tls_pair(settings: Settings) -> tuple[Path, Path]:
    """DAOGOU_TLS_CERT/DAOGOU_TLS_KEY, or the self-signed pair under var/cluster/tls/
    (generated once)."""
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise SystemExit("set both DAOGOU_TLS_CERT and DAOGOU_TLS_KEY, or neither")
        for path in (settings.tls_cert, settings.tls_key):
            if not path.is_file():
                raise SystemExit(f"TLS file {path} does not exist")
        return settings.tls_cert, settings.tls_key
    folder = cluster_dir(settings) / "tls"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not (cert.is_file() and key.is_file()):
        generate_self_signed(cert, key)
    return cert, key


def generate_self_signed(cert: Path, key: Path, days: int = 825) -> None:
    """A self-signed certificate for localhost and 127.0.0.1 (825 days: the longest validity
    Apple's platforms accept for a server certificate)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SystemExit(
            "openssl is needed for the cluster's TLS certificate (apt-get install openssl)"
        )
    cert.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", str(days), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)


# -- nginx -------------------------------------------------------------------------------------
NGINX_CONF = jinja2.Template(
    """\
# Written by daogou/cluster.py at every start of the cluster profile: edit the template there.
worker_processes 1;
pid {{ files.pid }};
error_log {{ files.log_dir }}/nginx_error.log warn;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    server_tokens off;
    # Paths only: query strings may carry the Rasa token.
    log_format daogou '$remote_addr [$time_local] "$request_method $uri" $status '
                      '$body_bytes_sent $request_time upstream=$upstream_addr '
                      'upstream_status=$upstream_status';
    access_log {{ files.log_dir }}/nginx_access.log daogou;

    client_body_temp_path {{ files.prefix }}/temp/client_body;
    proxy_temp_path {{ files.prefix }}/temp/proxy;
    fastcgi_temp_path {{ files.prefix }}/temp/fastcgi;
    uwsgi_temp_path {{ files.prefix }}/temp/uwsgi;
    scgi_temp_path {{ files.prefix }}/temp/scgi;
    client_max_body_size 10m;  # a merchant's product image (8 MB) through the web app

    # WebSocket upgrade when the client asks for it; otherwise an empty Connection header, which
    # lets nginx keep its connections to the upstreams alive.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        '' '';
    }

    # The stickiness key (module docstring): the widget's client_key, else the Authorization
    # header, else the shopper cookie, else the daogou_route cookie that the first Socket.IO
    # request of a client without any of them is given (its request id).
    map $cookie_daogou_route $dg_key_route {
        '' $request_id;
        default $cookie_daogou_route;
    }
    map $cookie_daogou_route $dg_route_cookie {
        '' "daogou_route=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default '';
    }
    map $cookie_daogou_shopper $dg_key_cookie {
        '' $dg_key_route;
        default $cookie_daogou_shopper;
    }
    map $http_authorization $dg_key_auth {
        '' $dg_key_cookie;
        default $http_authorization;
    }
    map $arg_{{ sticky_query_key }} $sticky_key {
        '' $dg_key_auth;
        default $arg_{{ sticky_query_key }};
    }

    upstream rasa {
        hash $sticky_key consistent;
{%- for port in topology.rasa_ports %}
        server 127.0.0.1:{{ port }} max_fails=1 fail_timeout=10s;
{%- endfor %}
        keepalive 16;
    }

    upstream actions {
{%- for port in topology.action_ports %}
        server 127.0.0.1:{{ port }} max_fails=1 fail_timeout=10s;
{%- endfor %}
        keepalive 16;
    }

    upstream web {
        server 127.0.0.1:{{ topology.web_port }};
        keepalive 8;
    }

    proxy_http_version 1.1;
    proxy_connect_timeout 2s;
    proxy_read_timeout 75s;
    # A refused or timed-out connection never reached the replica: try the next one. A request
    # sent to a replica that then failed is not repeated for POST (no `non_idempotent`).
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries {{ [topology.rasa_ports|length, topology.action_ports|length]|max }};

{%- macro proxy_headers(forwarded_for) %}
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Forwarded-For {{ forwarded_for }};
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Real-IP $remote_addr;
{%- endmacro %}

    # Public: the storefront, the widget's Socket.IO and the REST channel. TLS ends here.
    server {
        listen {{ topology.http_port }};
        listen {{ topology.https_port }} ssl;
        ssl_certificate {{ files.cert }};
        ssl_certificate_key {{ files.key }};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:daogou_tls:1m;
{{ proxy_headers("$remote_addr") }}

        location /socket.io/ {
            proxy_pass http://rasa;
            proxy_read_timeout 3600s;  # Engine.IO pings every 25 s; a WebSocket lives with its tab
            proxy_buffering off;
            add_header Set-Cookie $dg_route_cookie;
        }
        location /webhooks/rest/ {
            proxy_pass http://rasa;
        }
        location / {
            proxy_pass http://web;
        }
    }

    # Loopback: Rasa for the web app and tools on this machine (RASA_URL), its HTTP API included.
    server {
        listen 127.0.0.1:{{ topology.rasa_lb_port }};
{{ proxy_headers("$proxy_add_x_forwarded_for") }}
        add_header X-Upstream $upstream_addr always;

        location / {
            proxy_pass http://rasa;
            proxy_read_timeout 3600s;
            proxy_buffering off;
        }
    }

    # Loopback: the action servers for the Rasa replicas (ACTION_SERVER_URL).
    server {
        listen 127.0.0.1:{{ topology.action_lb_port }};
{{ proxy_headers("$proxy_add_x_forwarded_for") }}
        add_header X-Upstream $upstream_addr always;

        location / {
            proxy_pass http://actions;
        }
    }
}
""",
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def nginx_binary() -> str:
    """Debian's nginx (/usr/sbin is not on every user's PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise SystemExit("nginx is not installed: run `make cluster-packages`")
    return found


def render_nginx_conf(topology: Topology, files: NginxFiles) -> str:
    return NGINX_CONF.render(topology=topology, files=files, sticky_query_key=STICKY_QUERY_KEY)


def write_nginx_conf(settings: Settings, topology: Topology) -> NginxFiles:
    """var/cluster/nginx/nginx.conf for `topology`, with the TLS pair, written whole."""
    prefix = cluster_dir(settings) / "nginx"
    cert, key = tls_pair(settings)
    files = NginxFiles(prefix, prefix / "nginx.conf", log_dir(settings), cert, key)
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    files.log_dir.mkdir(parents=True, exist_ok=True)
    temporary = files.conf.with_name(f".nginx.conf.{os.getpid()}")
    temporary.write_text(render_nginx_conf(topology, files), encoding="utf-8")
    temporary.replace(files.conf)
    return files


def nginx_args(files: NginxFiles) -> list[str]:
    """nginx in the foreground, as a child of the launcher (`-e`: even its first error lines
    go to our log, not to /var/log/nginx)."""
    return [
        nginx_binary(), "-p", str(files.prefix), "-c", str(files.conf),
        "-e", str(files.log_dir / "nginx_error.log"), "-g", "daemon off;",
    ]  # fmt: skip


def check_nginx_conf(files: NginxFiles) -> None:
    """`nginx -t` on the written configuration: a mistake stops the start with nginx's words."""
    args = [a for a in nginx_args(files) if a not in ("-g", "daemon off;")] + ["-t", "-q"]
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nginx rejects {files.conf}:\n{result.stderr.strip()}")


# -- everything before the processes start ----------------------------------------------------
def prepare(settings: Settings, topology: Topology) -> tuple[Settings, NginxFiles]:
    """Databases created and the catalog migrated and seeded, the TLS pair, nginx.conf checked;
    answers the cluster's settings and nginx's files."""
    from daogou.db import init_database  # migrations and the seed: only when starting

    clustered = cluster_settings(settings, topology)
    for url in (clustered.database_url, clustered.tracker_db_url):
        ensure_database(url)
    init_database(clustered)
    files = write_nginx_conf(clustered, topology)
    check_nginx_conf(files)
    return clustered, files
