"""The deployment files (kustomize base and overlays, compose, Dockerfile), checked against the code.

Every kustomization is rendered with `kubectl kustomize` (offline) and every object is validated
against the Kubernetes JSON schemas that `kubernetes-validate` ships. Then the checks a cluster
would otherwise make the hard way: a probe on the wrong port restarts pods forever, an address
naming the wrong Service fails every request, a missing security setting gets the pods refused by
a restricted namespace, a NetworkPolicy that admits the world exposes billing.

Without kubectl (or kubernetes-validate) these checks skip with the reason; under CI (CI=true)
they fail instead, as the integration tests do, so a green CI always means they ran.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from nextmodel_billing.config import BillingSettings
from nextmodel_cache.config import CacheSettings
from nextmodel_catalog.config import CatalogSettings
from nextmodel_common.settings import BaseServiceSettings
from nextmodel_edge.config import EdgeSettings
from nextmodel_edge.routes import health as edge_health
from nextmodel_router.config import RouterSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RENDERS = ("base", "overlays/dev", "overlays/prod")
OVERLAY_NAMESPACES = {"overlays/dev": "nextmodel-dev", "overlays/prod": "nextmodel"}
# The oldest Kubernetes the manifests claim to support, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.29", "1.37")
# Read by no settings class yet, but part of the operator contract (DESIGN §5) or of work in
# progress (NEXTMODEL_SECRET_KEY: billing's encryption of projects' provider keys); given to the
# service that will read them.
PLANNED_SETTINGS = {"NEXTMODEL_ADMIN_KEY", "NEXTMODEL_REDIS_URL", "NEXTMODEL_SECRET_KEY"}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_tool(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the deployment checks must run, not skip)")
    pytest.skip(message)


@dataclass(frozen=True)
class Service:
    name: str
    settings: type[BaseServiceSettings]
    port_field: str
    module: str
    port_name: str

    @property
    def default_port(self) -> int:
        # The class default, not Settings(): a NEXTMODEL_*_PORT in the test's environment must not hide a drift.
        return self.settings.model_fields[self.port_field].default

    @property
    def grpc(self) -> bool:
        return self.port_name == "grpc"


SERVICES = {
    s.name: s
    for s in (
        Service("edge", EdgeSettings, "edge_port", "nextmodel_edge.server", "http"),
        Service("router", RouterSettings, "router_port", "nextmodel_router.server", "grpc"),
        Service("cache", CacheSettings, "cache_port", "nextmodel_cache.server", "grpc"),
        Service("billing", BillingSettings, "billing_port", "nextmodel_billing.server", "grpc"),
        Service("catalog", CatalogSettings, "catalog_port", "nextmodel_catalog.server", "grpc"),
    )
}
GRPC_SERVICES = [name for name, s in SERVICES.items() if s.grpc]
# Who must reach whom (DESIGN §2): the router calls cache, billing and catalog; the edge calls the
# router and asks all four for health on /readyz. "outside" is any source beyond these pods.
EXPECTED_CALLERS = {
    "edge": {"outside"},
    "router": {"edge"},
    "cache": {"router", "edge"},
    "billing": {"router", "edge"},
    "catalog": {"router", "edge"},
}


def settings_env_names(*classes: type[BaseServiceSettings]) -> set[str]:
    return {f"NEXTMODEL_{field.upper()}" for cls in classes for field in cls.model_fields}


# --------------------------------------------------------------------------- rendering


@functools.cache
def _render(path: str) -> tuple[dict, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        missing_tool("kubectl is not installed: the Kubernetes manifests cannot be rendered "
                     "(install kubectl, which includes kustomize, to run these checks)")
    run = subprocess.run([kubectl, "kustomize", str(DEPLOY / path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"kubectl kustomize deploy/{path} failed:\n{run.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(run.stdout) if doc)


class Rendered:
    def __init__(self, path: str) -> None:
        self.path = path
        self.objects = _render(path)

    def all(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        assert found, f"deploy/{self.path}: no {kind} named {name!r}"
        return found[0]

    def deployment(self, name: str) -> dict:
        return self.get("Deployment", name)

    def container(self, name: str) -> dict:
        containers = self.deployment(name)["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1, f"{name}: expected one container"
        return containers[0]

    def config(self, name: str) -> dict:
        """The ConfigMap behind the container's envFrom (kustomize adds a hash to its name)."""
        refs = [s["configMapRef"]["name"] for s in self.container(name).get("envFrom", []) if "configMapRef" in s]
        assert len(refs) == 1, f"{name}: expected one envFrom configMapRef, got {refs}"
        return self.get("ConfigMap", refs[0])["data"]

    def env(self, name: str) -> dict[str, object]:
        """What the process sees: ConfigMap values, overridden by the container's own env entries."""
        env: dict[str, object] = dict(self.config(name))
        for entry in self.container(name).get("env", []):
            env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
        return env


@pytest.fixture(scope="module", params=RENDERS)
def rendered(request) -> Rendered:
    return Rendered(request.param)


@pytest.fixture(scope="module", params=list(OVERLAY_NAMESPACES))
def overlay(request) -> Rendered:
    return Rendered(request.param)


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def quantity(value: str | int) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match and (match[2] in units or not match[2]), f"unreadable quantity {value!r}"
    return float(match[1]) * units.get(match[2], 1)


# --------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid_for_kubernetes(rendered: Rendered, version: str) -> None:
    try:
        import kubernetes_validate
    except ImportError:
        missing_tool("kubernetes-validate is not installed: the schema checks cannot run")
    failures = []
    for obj in rendered.objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            failures.append(f"{where}: {error.message}")
    assert not failures, f"deploy/{rendered.path} against Kubernetes {version}:\n" + "\n".join(failures)


# --------------------------------------------------------------------------- per service


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_deployment_service_autoscaler_and_disruption_budget(rendered: Rendered, name: str) -> None:
    deployment = rendered.deployment(name)
    labels = pod_labels(deployment)
    assert selects(deployment["spec"]["selector"], labels)
    # The HPA owns the replica count; a replicas field would be reset by every `kubectl apply`.
    assert "replicas" not in deployment["spec"], f"{name}: remove spec.replicas, the HPA sets it"

    service = rendered.get("Service", name)
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)

    hpa = rendered.get("HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"] == ["cpu"]

    pdb = rendered.get("PodDisruptionBudget", name)
    assert pdb["apiVersion"] == "policy/v1"
    assert selects(pdb["spec"]["selector"], labels)
    # minAvailable: 1 on a one-replica Deployment would block every node drain.
    assert "maxUnavailable" in pdb["spec"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_container_runs_its_service_module_on_the_port_the_code_listens_on(rendered: Rendered, name: str) -> None:
    spec = SERVICES[name]
    container = rendered.container(name)
    assert container["command"] == ["python", "-m", spec.module]
    assert importlib.util.find_spec(spec.module) is not None
    assert container["ports"] == [{"name": spec.port_name, "containerPort": spec.default_port, "protocol": "TCP"}]

    env = rendered.env(name)
    assert env["NEXTMODEL_BIND_HOST"] == "0.0.0.0", "a service bound to 127.0.0.1 is unreachable in a pod"
    assert int(env[f"NEXTMODEL_{name.upper()}_PORT"]) == spec.default_port

    service_ports = rendered.get("Service", name)["spec"]["ports"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in service_ports] == \
        [(spec.port_name, spec.default_port, spec.port_name)]


@pytest.mark.parametrize("name", GRPC_SERVICES)
def test_grpc_services_use_native_grpc_probes_on_their_port(rendered: Rendered, name: str) -> None:
    container = rendered.container(name)
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container[kind]
        assert "grpc" in probe, f"{name} {kind}: expected a native gRPC probe, got {sorted(probe)}"
        assert probe["grpc"]["port"] == SERVICES[name].default_port
        # "" asks for the whole server, which grpc_bootstrap sets SERVING and NOT_SERVING on SIGTERM.
        assert probe["grpc"].get("service", "") == ""


def test_edge_probes_use_the_health_routes_the_edge_serves(rendered: Rendered) -> None:
    routes = {route.path for route in edge_health.router.routes}
    container = rendered.container("edge")
    paths = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert paths["readinessProbe"]["path"] == "/readyz"
    assert paths["livenessProbe"]["path"] == "/healthz"
    for kind, get in paths.items():
        assert get["path"] in routes, f"{kind}: the edge has no route {get['path']}"
        assert get["port"] == "http"
    # /readyz waits up to 2 s for the slowest of the four health checks.
    assert container["readinessProbe"].get("timeoutSeconds", 1) > 2


@pytest.mark.parametrize("name", SERVICES)
def test_each_pod_is_non_root_with_a_read_only_root_and_no_privileges(rendered: Rendered, name: str) -> None:
    pod = rendered.deployment(name)["spec"]["template"]["spec"]
    container = rendered.container(name)
    pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
    assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True
    assert sc.get("runAsUser", pod_sc.get("runAsUser")) == dockerfile_uid()
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert not sc.get("capabilities", {}).get("add")
    assert sc.get("seccompProfile", pod_sc.get("seccompProfile")) == {"type": "RuntimeDefault"}
    assert pod.get("automountServiceAccountToken") is False
    # With a read-only root, /tmp is the only writable place; it must be a volume.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
    assert tmp and "emptyDir" in volumes[tmp[0]["name"]]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_drains_within_its_termination_grace_period(rendered: Rendered, name: str) -> None:
    pod = rendered.deployment(name)["spec"]["template"]["spec"]
    pre_stop = rendered.container(name)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep" and len(pre_stop) == 2
    grace = float(rendered.env(name).get("NEXTMODEL_SHUTDOWN_GRACE_SECONDS",
                                         BaseServiceSettings.model_fields["shutdown_grace_seconds"].default))
    # Kubernetes runs preStop, then sends SIGTERM; the whole of it must end before SIGKILL.
    assert pod["terminationGracePeriodSeconds"] > float(pre_stop[1]) + grace


def test_every_container_sets_cpu_and_memory_requests_and_limits(rendered: Rendered) -> None:
    for deployment in rendered.all("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            resources = container.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                assert request and limit, f"{where}: {resource} request and limit are both required"
                assert quantity(request) <= quantity(limit), f"{where}: {resource} request above its limit"


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("name", SERVICES)
def test_service_addresses_name_the_service_and_port_of_their_target(rendered: Rendered, name: str) -> None:
    """NEXTMODEL_<X>_ADDR (host:port) must reach X's pods: a Service selecting them, on their port."""
    env = rendered.env(name)
    for target in GRPC_SERVICES:
        host, _, port = str(env[f"NEXTMODEL_{target.upper()}_ADDR"]).rpartition(":")
        service = rendered.get("Service", host)
        assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels(rendered.deployment(target))), \
            f"NEXTMODEL_{target.upper()}_ADDR names Service {host!r}, which does not select the {target} pods"
        assert int(port) in [p["port"] for p in service["spec"]["ports"]]
        assert int(port) == SERVICES[target].default_port


@pytest.mark.parametrize("name", SERVICES)
def test_every_nextmodel_variable_given_to_a_service_is_one_the_code_reads(rendered: Rendered, name: str) -> None:
    """A misspelt variable is silently ignored (extra="ignore"); this catches it."""
    shared = settings_env_names(*(s.settings for s in SERVICES.values())) | PLANNED_SETTINGS
    own = settings_env_names(SERVICES[name].settings) | PLANNED_SETTINGS
    for key in rendered.config(name):
        assert not key.startswith("NEXTMODEL_") or key in shared, f"nextmodel-config: no service reads {key}"
    for entry in rendered.container(name).get("env", []):
        key = entry["name"]
        assert not key.startswith("NEXTMODEL_") or key in own, f"{name}: {key} is not a setting of {name}"


def test_secrets_the_pods_reference_exist_with_those_keys(rendered: Rendered) -> None:
    """A missing Secret key keeps a pod in CreateContainerConfigError. In prod the operator
    creates nextmodel-secrets, with the keys listed in the base placeholder."""
    placeholder_keys = set(Rendered("base").get("Secret", "nextmodel-secrets")["stringData"])
    secrets = {s["metadata"]["name"]: s for s in rendered.all("Secret")}
    for deployment in rendered.all("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if not ref or ref.get("optional"):
                    continue
                if ref["name"] == "nextmodel-secrets" and rendered.path == "overlays/prod":
                    assert ref["key"] in placeholder_keys, f"{ref['key']} is missing from deploy/base/secrets.yaml"
                    continue
                secret = secrets.get(ref["name"])
                assert secret, f"{deployment['metadata']['name']}: Secret {ref['name']} is not rendered"
                assert ref["key"] in {**secret.get("data", {}), **secret.get("stringData", {})}


def test_placeholders_never_reach_an_overlay(overlay: Rendered) -> None:
    for secret in overlay.all("Secret"):
        values = {**secret.get("data", {}), **secret.get("stringData", {})}
        assert "REPLACE_ME" not in values.values(), f"{secret['metadata']['name']} still holds placeholders"


def test_prod_never_overwrites_the_operators_secret_and_never_bootstraps() -> None:
    prod = Rendered("overlays/prod")
    assert not [s for s in prod.all("Secret") if s["metadata"]["name"] == "nextmodel-secrets"]
    assert prod.config("billing")["NEXTMODEL_BOOTSTRAP"] == "false"
    for name in SERVICES:
        assert prod.get("HorizontalPodAutoscaler", name)["spec"]["minReplicas"] >= 2, f"{name}: one pod is no HA"
        image = prod.container(name)["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), f"{name}: pin the image tag"


def test_dev_runs_one_replica_on_its_own_postgres_redis_and_collector() -> None:
    dev = Rendered("overlays/dev")
    for name in SERVICES:
        hpa = dev.get("HorizontalPodAutoscaler", name)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 1)
    secret = dev.get("Secret", "nextmodel-secrets")["stringData"]
    assert "@postgres:5432/" in secret["NEXTMODEL_DATABASE_URL"]
    assert secret["NEXTMODEL_REDIS_URL"].startswith("redis://redis:6379")
    assert dev.config("router")["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    for backend, port in (("postgres", 5432), ("redis", 6379), ("otel-collector", 4317), ("jaeger", 4317)):
        dev.deployment(backend)
        assert port in [p["port"] for p in dev.get("Service", backend)["spec"]["ports"]]


def test_overlays_put_everything_in_a_restricted_namespace(overlay: Rendered) -> None:
    namespace = OVERLAY_NAMESPACES[overlay.path]
    labels = overlay.get("Namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in overlay.objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, f"{obj['kind']}/{obj['metadata']['name']}"


def test_every_pod_meets_the_restricted_pod_security_standard(overlay: Rendered) -> None:
    """The overlay namespaces enforce "restricted": a pod that does not meet it is never created."""
    for deployment in overlay.all("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        pod_sc = pod.get("securityContext", {})
        for container in pod["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            sc = container.get("securityContext", {})
            assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, where
            assert sc.get("runAsUser", pod_sc.get("runAsUser", 1)) != 0, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("privileged"), where
            assert sc.get("seccompProfile", pod_sc.get("seccompProfile")) == {"type": "RuntimeDefault"}, where
        assert not (pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"))
        assert all("hostPath" not in v for v in pod.get("volumes", []))


# --------------------------------------------------------------------------- network policies


def callers(rendered: Rendered, target: dict, port: int) -> set[str]:
    """Which pods (by app.kubernetes.io/name), or "outside", the NetworkPolicies let reach `port`."""
    labels = pod_labels(target)
    sources = {pod_labels(d)["app.kubernetes.io/name"]: pod_labels(d) for d in rendered.all("Deployment")}
    policies = [p for p in rendered.all("NetworkPolicy")
                if "Ingress" in p["spec"].get("policyTypes", ["Ingress"]) and selects(p["spec"]["podSelector"], labels)]
    if not policies:
        return set(sources) | {"outside"}
    allowed: set[str] = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports is not None:
                assert all(isinstance(p.get("port"), int) for p in ports), "use port numbers in NetworkPolicies"
                if port not in [p["port"] for p in ports]:
                    continue
            peers = rule.get("from")
            if not peers:
                allowed |= set(sources) | {"outside"}
                continue
            for peer in peers:
                if "ipBlock" in peer or "namespaceSelector" in peer:
                    allowed.add("outside")
                else:
                    allowed |= {name for name, pod in sources.items() if selects(peer["podSelector"], pod)}
    return allowed


def test_ingress_is_denied_unless_a_policy_admits_it(rendered: Rendered) -> None:
    deny = [p for p in rendered.all("NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"] and not deny[0]["spec"].get("ingress")


@pytest.mark.parametrize("name", SERVICES)
def test_only_the_edge_is_reachable_from_outside(rendered: Rendered, name: str) -> None:
    admitted = callers(rendered, rendered.deployment(name), SERVICES[name].default_port)
    if name == "edge":
        assert "outside" in admitted
    else:
        assert admitted == EXPECTED_CALLERS[name], f"{name} admits {sorted(admitted)}"


def test_nothing_but_the_edge_admits_outside_traffic_on_any_port(rendered: Rendered) -> None:
    for deployment in rendered.all("Deployment"):
        name = deployment["metadata"]["name"]
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for port in container.get("ports", []):
                if name != "edge":
                    assert "outside" not in callers(rendered, deployment, port["containerPort"]), \
                        f"{name}:{port['containerPort']} is reachable from outside the namespace"


# --------------------------------------------------------------------------- image


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def dockerfile_uid() -> int:
    users = [arg for op, arg in dockerfile_instructions() if op == "USER"]
    assert users, "the image must not run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "USER must be numeric, or Kubernetes cannot verify runAsNonRoot"
    return int(uid)


def test_image_runs_as_a_numeric_non_root_user_and_starts_the_edge_by_default() -> None:
    assert dockerfile_uid() != 0
    cmd = [arg for op, arg in dockerfile_instructions() if op == "CMD"][-1]
    assert yaml.safe_load(cmd) == ["python", "-m", SERVICES["edge"].module]


def test_image_build_copies_every_package_folder_and_dockerignore_keeps_them() -> None:
    """A package folder added to pyproject.toml but not copied would be missing from the image."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", "constraints.txt", pyproject["project"]["readme"],
              *pyproject["tool"]["setuptools"]["packages"]["find"]["where"]}
    copied = {source for op, arg in dockerfile_instructions() if op == "COPY" and not arg.startswith("--from")
              for source in arg.split()[:-1]}
    assert needed <= copied, f"Dockerfile does not COPY {sorted(needed - copied)}"
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for path in needed:
        assert not any(fnmatch(path, pattern) for pattern in ignored), f".dockerignore drops {path}"


# --------------------------------------------------------------------------- compose


@functools.cache
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.mark.parametrize("name", SERVICES)
def test_compose_runs_each_service_hardened_on_its_port(name: str) -> None:
    spec = SERVICES[name]
    service = compose()["services"][name]
    assert service["command"] == ["python", "-m", spec.module]
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert service["user"].split(":")[0] == str(dockerfile_uid())
    env = service["environment"]
    assert env["NEXTMODEL_BIND_HOST"] == "0.0.0.0"
    assert int(env[f"NEXTMODEL_{name.upper()}_PORT"]) == spec.default_port
    for target in GRPC_SERVICES:
        assert env[f"NEXTMODEL_{target.upper()}_ADDR"] == f"{target}:{SERVICES[target].default_port}"
    # Shared values (x-nextmodel-env, like nextmodel-config) go to every service; the rest is its own.
    shared = compose()["x-nextmodel-env"]
    assert {k for k in shared if k.startswith("NEXTMODEL_")} <= \
        settings_env_names(*(s.settings for s in SERVICES.values())) | PLANNED_SETTINGS
    own = {k for k in env if k.startswith("NEXTMODEL_") and k not in shared}
    assert own <= settings_env_names(spec.settings) | PLANNED_SETTINGS, f"{name}: not settings of {name}"
    check = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{spec.default_port}" in check


def test_compose_has_the_backends_and_the_collector_config_it_mounts() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "otel-collector", "jaeger"} <= set(services)
    for name in ("billing", "catalog"):
        assert "@postgres:5432/" in services[name]["environment"]["NEXTMODEL_DATABASE_URL"]
    config_mount = services["otel-collector"]["volumes"][0].split(":")[0]
    config = yaml.safe_load((DEPLOY / config_mount).read_text())
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    assert all(exporter in config["exporters"] for exporter in exporters)
    assert config["exporters"][exporters[0]]["endpoint"] == "jaeger:4317"
