"""The deployment files (kustomize base and overlays, compose, Dockerfile), checked against the code.

Every kustomization is rendered with `kubectl kustomize` (offline) and every object is validated
against the Kubernetes JSON schemas that `kubernetes-validate` ships. Then the checks a cluster
would otherwise make the hard way: a probe on the wrong port restarts pods forever, an address
naming the wrong Service fails every request, a missing security setting gets the pods refused by
a restricted namespace, a NetworkPolicy that admits the world exposes billing, a secret given to a
service that does not need it widens what one compromised pod leaks, a file the code reads that a
regular install leaves out breaks only in the image.

Without kubectl (or kubernetes-validate) these checks skip with the reason; under CI (CI=true)
they fail instead, as the integration tests do, so a green CI always means they ran.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
import typing
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from nextmodel_billing.config import BillingSettings
from nextmodel_cache.config import CacheSettings
from nextmodel_catalog.config import CatalogSettings
from nextmodel_common import grpc_bootstrap
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
# NEXTMODEL_* variables a manifest may give a service before its settings class reads them (work in
# progress). Empty: every variable given to a service is one its settings class reads.
PLANNED_SETTINGS: frozenset[str] = frozenset()
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
# The Job that upgrades the schemas: one container per service that owns tables, each with that
# service's image, ConfigMaps and Secret keys and another command. "migrate/billing" names a container.
MIGRATION_JOB = "migrate"
MIGRATION_MODULES = {"billing": "nextmodel_billing.store.migrate", "catalog": "nextmodel_catalog.store.migrate"}
MIGRATION_CONTAINERS = {f"{MIGRATION_JOB}/{service}": service for service in MIGRATION_MODULES}
# Every NextModel process (a Deployment's container, or one of the Job's) and the settings class it reads.
WORKLOAD_SETTINGS = {**{name: s.settings for name, s in SERVICES.items()},
                     **{name: SERVICES[service].settings for name, service in MIGRATION_CONTAINERS.items()}}
# The nextmodel-secrets keys each service gets (as variables of the same name): exactly the secrets
# its settings class reads. The edge holds none: billing and catalog check the admin key themselves.
SECRET_VARIABLES = {
    "edge": set(),
    "router": {"NEXTMODEL_REDIS_URL"},
    "cache": {"NEXTMODEL_REDIS_URL"},
    "billing": {"NEXTMODEL_DATABASE_URL", "NEXTMODEL_RECEIPT_SECRET", "NEXTMODEL_SECRET_KEY", "NEXTMODEL_ADMIN_KEY"},
    "catalog": {"NEXTMODEL_DATABASE_URL", "NEXTMODEL_ADMIN_KEY"},
}
# The development key billing's bootstrap creates: dev overlay and compose only.
DEV_SECRET_VARIABLES = {"billing": {"NEXTMODEL_DEV_KEY"}}
# Provider credentials (<PROVIDER>_API_KEY, <PROVIDER>_BASE_URL): the router only.
PROVIDER_KEYS_SECRET = "nextmodel-provider-keys"
PROVIDER_VARIABLE = re.compile(r"[A-Z0-9_]+_(API_KEY|BASE_URL)")
# On stopping, the router makes one more SettleBatch call for the settlements still in its outbox,
# with a deadline of 4 x NEXTMODEL_INTERNAL_TIMEOUT (nextmodel_router.clients.BillingClient).
OUTBOX_DELIVERY_TIMEOUTS = 4
# Who must reach whom (docs/ARCHITECTURE.md, "Processes"): the router calls cache, billing and catalog;
# the edge calls the router, calls billing (/admin/v1, /v1/usage, receipts) and catalog (its admin routes) itself, and
# asks all four for health on /readyz. "outside" is any source beyond these pods.
EXPECTED_CALLERS = {
    "edge": {"outside"},
    "router": {"edge"},
    "cache": {"router", "edge"},
    "billing": {"router", "edge"},
    "catalog": {"router", "edge"},
}


def settings_env_names(*classes: type[BaseServiceSettings]) -> set[str]:
    return {f"NEXTMODEL_{field.upper()}" for cls in classes for field in cls.model_fields}


def secret_variables(name: str, dev: bool) -> set[str]:
    return SECRET_VARIABLES[name] | (DEV_SECRET_VARIABLES.get(name, set()) if dev else set())


def setting(env: dict, settings: type[BaseServiceSettings], field: str) -> float:
    """A numeric setting as the process sees it: from the environment, else the class default."""
    return float(env.get(f"NEXTMODEL_{field.upper()}", settings.model_fields[field].default))


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

    def workloads(self) -> list[dict]:
        """Everything that runs pods: Deployments and Jobs."""
        return self.all("Deployment") + self.all("Job")

    def workload(self, name: str) -> dict:
        """A NextModel service's Deployment, or the migration Job ("migrate" or "migrate/<container>")."""
        name = name.partition("/")[0]
        return self.get("Job", name) if name == MIGRATION_JOB else self.deployment(name)

    def pod(self, name: str) -> dict:
        return self.workload(name)["spec"]["template"]["spec"]

    def container(self, name: str) -> dict:
        """A Deployment's one container, or the named container of a workload ("migrate/billing")."""
        containers = self.pod(name)["containers"]
        _, _, container = name.partition("/")
        if container:
            found = [c for c in containers if c["name"] == container]
            assert len(found) == 1, f"{name}: expected one container named {container!r}"
            return found[0]
        assert len(containers) == 1, f"{name}: expected one container"
        return containers[0]

    def config(self, name: str) -> dict:
        """The ConfigMaps behind the container's envFrom, merged in order (a later one wins; kustomize
        adds a hash to their names)."""
        data: dict = {}
        for source in self.container(name).get("envFrom", []):
            if "configMapRef" in source:
                data.update(self.get("ConfigMap", source["configMapRef"]["name"]).get("data", {}))
        return data

    def env(self, name: str) -> dict[str, object]:
        """What the process sees: ConfigMap values, overridden by the container's own env entries."""
        env: dict[str, object] = dict(self.config(name))
        for entry in self.container(name).get("env", []):
            env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
        return env

    def secret_env(self, name: str) -> dict[str, dict]:
        """The container's variables that come from a Secret key: name -> secretKeyRef."""
        return {entry["name"]: entry["valueFrom"]["secretKeyRef"] for entry in self.container(name).get("env", [])
                if "secretKeyRef" in entry.get("valueFrom", {})}


@pytest.fixture(scope="module", params=RENDERS)
def rendered(request) -> Rendered:
    return Rendered(request.param)


@pytest.fixture(scope="module", params=list(OVERLAY_NAMESPACES))
def overlay(request) -> Rendered:
    return Rendered(request.param)


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def all_containers(workload: dict) -> list[dict]:
    pod = workload["spec"]["template"]["spec"]
    return pod.get("initContainers", []) + pod["containers"]


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
    # Readiness asks for "" (the whole server), which grpc_bootstrap sets SERVING only while the
    # service can work (the router: a catalog copy and a writable outbox) and NOT_SERVING on
    # SIGTERM. Startup and liveness ask for the name that is SERVING whenever the process serves
    # gRPC: a service that is alive but not ready (a router waiting for the catalog) must be kept
    # out of rotation, not restarted.
    expected = {"startupProbe": grpc_bootstrap.LIVENESS, "readinessProbe": "", "livenessProbe": grpc_bootstrap.LIVENESS}
    for kind, service in expected.items():
        probe = container[kind]
        assert "grpc" in probe, f"{name} {kind}: expected a native gRPC probe, got {sorted(probe)}"
        assert probe["grpc"]["port"] == SERVICES[name].default_port
        assert probe["grpc"].get("service", "") == service, f"{name} {kind}"


def test_edge_probes_use_the_health_routes_the_edge_serves(rendered: Rendered) -> None:
    routes = {route.path for route in edge_health.router.routes}
    container = rendered.container("edge")
    paths = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert paths["readinessProbe"]["path"] == "/readyz"
    assert paths["livenessProbe"]["path"] == "/healthz"
    for kind, get in paths.items():
        assert get["path"] in routes, f"{kind}: the edge has no route {get['path']}"
        assert get["port"] == "http"
    # /readyz waits up to 2 s for the slowest of the four health checks (run in parallel).
    assert container["readinessProbe"].get("timeoutSeconds", 1) > 2


@pytest.mark.parametrize("name", WORKLOAD_SETTINGS)
def test_each_pod_is_non_root_with_a_read_only_root_and_no_privileges(rendered: Rendered, name: str) -> None:
    pod = rendered.pod(name)
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
    env = rendered.env(name)
    grace = setting(env, SERVICES[name].settings, "shutdown_grace_seconds")
    if name == "router":
        # After draining, the router tries once more to deliver the settlements left in its outbox.
        grace += OUTBOX_DELIVERY_TIMEOUTS * setting(env, RouterSettings, "internal_timeout")
    # Kubernetes runs preStop, then sends SIGTERM; the whole of it must end before SIGKILL.
    assert pod["terminationGracePeriodSeconds"] > float(pre_stop[1]) + grace


def test_every_container_sets_cpu_and_memory_requests_and_limits(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        for container in all_containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
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


@pytest.mark.parametrize("name", WORKLOAD_SETTINGS)
def test_every_nextmodel_variable_a_service_sees_is_a_setting_it_reads(rendered: Rendered, name: str) -> None:
    """A misspelt variable is silently ignored (extra="ignore"); a variable given to a service that
    does not read it is noise at best and a leaked secret at worst. Both fail here, ConfigMaps included."""
    own = settings_env_names(WORKLOAD_SETTINGS[name]) | PLANNED_SETTINGS
    for key in rendered.env(name):
        assert not key.startswith("NEXTMODEL_") or key in own, f"{name}: {key} is not a setting of {name}"


def test_the_shared_config_holds_only_what_every_service_reads(rendered: Rendered) -> None:
    """nextmodel-config goes to every service: base settings and the OpenTelemetry SDK's OTEL_* only."""
    shared = [c for c in rendered.all("ConfigMap") if c["metadata"]["name"].startswith("nextmodel-config")]
    assert len(shared) == 1
    for key in shared[0]["data"]:
        assert key.startswith("OTEL_") or key in settings_env_names(BaseServiceSettings) | PLANNED_SETTINGS, \
            f"nextmodel-config: {key} is not read by every service; put it in that service's own ConfigMap"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_gets_exactly_the_secrets_it_reads(rendered: Rendered, name: str) -> None:
    """The admin key on billing and catalog (never the edge), the Redis URL on the router and the
    cache, the receipt and encryption secrets on billing only, ..."""
    expected = secret_variables(name, dev=rendered.path == "overlays/dev")
    given = rendered.secret_env(name)
    assert set(given) == expected, f"{name}: secrets {sorted(given)}, expected {sorted(expected)}"
    for variable, ref in given.items():
        assert (ref["name"], ref["key"]) == ("nextmodel-secrets", variable), f"{name}: {variable} from {ref}"
        assert not ref.get("optional"), f"{name}: {variable} must not be optional"
    # Secrets reach a pod only through these named references: never a whole Secret, except the
    # provider keys for the router.
    secret_sources = [source["secretRef"]["name"] for source in rendered.container(name).get("envFrom", [])
                      if "secretRef" in source]
    assert secret_sources == ([PROVIDER_KEYS_SECRET] if name == "router" else []), f"{name}: {secret_sources}"
    if name != "router":
        leaked = [key for key in rendered.env(name) if PROVIDER_VARIABLE.fullmatch(key)]
        assert not leaked, f"{name}: provider credentials {leaked} belong to the router only"


@pytest.mark.parametrize("name", SERVICES)
def test_every_secret_setting_of_a_service_is_given_to_it(rendered: Rendered, name: str) -> None:
    """The other way round: a SecretStr setting left unset quietly turns a feature off (an admin API
    that refuses every call) or runs on its development default (receipts signed with a published
    secret). Each must come from the Secret; the development key only where bootstrap runs."""
    secret_settings = {f"NEXTMODEL_{field.upper()}" for field, info in SERVICES[name].settings.model_fields.items()
                       if info.annotation is SecretStr or SecretStr in typing.get_args(info.annotation)}
    missing = secret_settings - DEV_SECRET_VARIABLES.get(name, set()) - set(rendered.secret_env(name))
    assert not missing, f"{name} reads {sorted(missing)} but is not given them from nextmodel-secrets"


def test_the_secret_holds_exactly_the_keys_the_services_read(rendered: Rendered) -> None:
    """A key the operator must create but no pod reads is a leftover (or a service lost it). The prod
    overlay drops the Secret: the operator creates it with the keys of the base placeholder."""
    source = Rendered("base") if rendered.path == "overlays/prod" else rendered
    keys = set(source.get("Secret", "nextmodel-secrets")["stringData"])
    expected = set().union(*(secret_variables(name, dev=rendered.path == "overlays/dev") for name in SERVICES))
    assert keys == expected, f"nextmodel-secrets: extra {sorted(keys - expected)}, missing {sorted(expected - keys)}"


def test_secrets_the_pods_reference_exist_with_those_keys(rendered: Rendered) -> None:
    """A missing Secret key keeps a pod in CreateContainerConfigError. In prod the operator
    creates nextmodel-secrets, with the keys listed in the base placeholder."""
    placeholder_keys = set(Rendered("base").get("Secret", "nextmodel-secrets")["stringData"])
    secrets = {s["metadata"]["name"]: s for s in rendered.all("Secret")}
    for workload in rendered.workloads():
        for container in all_containers(workload):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if not ref or ref.get("optional"):
                    continue
                if ref["name"] == "nextmodel-secrets" and rendered.path == "overlays/prod":
                    assert ref["key"] in placeholder_keys, f"{ref['key']} is missing from deploy/base/secrets.yaml"
                    continue
                secret = secrets.get(ref["name"])
                assert secret, f"{workload['metadata']['name']}: Secret {ref['name']} is not rendered"
                assert ref["key"] in {**secret.get("data", {}), **secret.get("stringData", {})}


def test_cache_and_router_share_redis(rendered: Rendered) -> None:
    """Without NEXTMODEL_REDIS_URL each cache pod keeps its own entries and each router its own rate
    counts: every replica would see a different cache and a key could use N times its limit."""
    for name in ("cache", "router"):
        assert rendered.env(name)["NEXTMODEL_REDIS_URL"] == \
            {"secretKeyRef": {"name": "nextmodel-secrets", "key": "NEXTMODEL_REDIS_URL"}}, name


def test_router_outbox_is_on_its_own_writable_volume(rendered: Rendered) -> None:
    """Settlements wait in the outbox while billing is unreachable: on a read-only root the file
    needs a volume, one that outlives a container restart (an emptyDir does; /tmp is for scratch)."""
    path = Path(str(rendered.env("router")["NEXTMODEL_ROUTER_OUTBOX_PATH"]))
    assert path.is_absolute()
    mounts = [m for m in rendered.container("router").get("volumeMounts", [])
              if path.is_relative_to(m["mountPath"])]
    assert mounts, f"{path} is on the read-only root filesystem"
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    assert mount["mountPath"] != "/tmp" and not mount.get("readOnly")
    volume = {v["name"]: v for v in rendered.pod("router")["volumes"]}[mount["name"]]
    assert "emptyDir" in volume or "persistentVolumeClaim" in volume, volume


# --------------------------------------------------------------------------- schema migrations


def test_the_migration_job_migrates_every_service_that_owns_tables(rendered: Rendered) -> None:
    job = rendered.get("Job", MIGRATION_JOB)
    assert [c["name"] for c in job["spec"]["template"]["spec"]["containers"]] == list(MIGRATION_MODULES)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"].get("backoffLimit", 6) >= 1, "a database not reachable yet must be retried"
    assert job["spec"].get("activeDeadlineSeconds"), "a stuck migration must not run forever"


@pytest.mark.parametrize("service", MIGRATION_MODULES)
def test_each_migration_runs_with_its_services_image_config_and_secrets(rendered: Rendered, service: str) -> None:
    module = MIGRATION_MODULES[service]
    container, served = rendered.container(f"{MIGRATION_JOB}/{service}"), rendered.container(service)
    assert container["command"] == ["python", "-m", module]
    assert importlib.util.find_spec(module) is not None
    # It must migrate the very database the service uses, with the image the service runs.
    assert container["image"] == served["image"]
    assert container["envFrom"] == served["envFrom"]
    by_name = lambda entries: sorted(entries, key=lambda e: e["name"])  # noqa: E731
    assert by_name(container.get("env", [])) == by_name(served.get("env", []))


def test_migration_pods_are_never_taken_for_service_pods(rendered: Rendered) -> None:
    """A Job pod labelled like billing or catalog would receive their traffic and count in their PDB."""
    labels = pod_labels(rendered.get("Job", MIGRATION_JOB))
    for service in rendered.all("Service"):
        assert not selects({"matchLabels": service["spec"].get("selector", {})}, labels), service["metadata"]["name"]
    for obj in rendered.all("Deployment") + rendered.all("PodDisruptionBudget"):
        assert not selects(obj["spec"]["selector"], labels), f"{obj['kind']}/{obj['metadata']['name']}"


def test_placeholders_never_reach_an_overlay(overlay: Rendered) -> None:
    for secret in overlay.all("Secret"):
        values = {**secret.get("data", {}), **secret.get("stringData", {})}
        assert "REPLACE_ME" not in values.values(), f"{secret['metadata']['name']} still holds placeholders"


def test_prod_never_overwrites_the_operators_secret_and_never_bootstraps() -> None:
    prod = Rendered("overlays/prod")
    assert not [s for s in prod.all("Secret") if s["metadata"]["name"] == "nextmodel-secrets"]
    assert prod.env("billing")["NEXTMODEL_BOOTSTRAP"] == "false"
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
    assert dev.env("billing")["NEXTMODEL_BOOTSTRAP"] == "true"
    for backend, port in (("postgres", 5432), ("redis", 6379), ("otel-collector", 4317), ("jaeger", 4317)):
        dev.deployment(backend)
        assert port in [p["port"] for p in dev.get("Service", backend)["spec"]["ports"]]
    # Each backend admits exactly its clients.
    assert callers(dev, dev.deployment("postgres"), 5432) == {"billing", MIGRATION_JOB, "catalog"}
    assert callers(dev, dev.deployment("redis"), 6379) == {"cache", "router"}


def test_dev_migration_waits_for_postgres() -> None:
    """PostgreSQL starts together with everything else; the migration must not use up its retries first."""
    dev = Rendered("overlays/dev")
    job = dev.get("Job", MIGRATION_JOB)
    waits = job["spec"]["template"]["spec"].get("initContainers", [])
    assert len(waits) == 1, "expected an initContainer that waits for postgres"
    script = " ".join(waits[0]["command"])
    assert '"postgres", 5432' in script
    assert 5432 in [p["port"] for p in dev.get("Service", "postgres")["spec"]["ports"]]
    # The nextmodel image: it has the Python the wait script runs on.
    assert all(waits[0]["image"] == dev.container(name)["image"] for name in MIGRATION_CONTAINERS)


def test_overlays_put_everything_in_a_restricted_namespace(overlay: Rendered) -> None:
    namespace = OVERLAY_NAMESPACES[overlay.path]
    labels = overlay.get("Namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in overlay.objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, f"{obj['kind']}/{obj['metadata']['name']}"


def test_every_pod_meets_the_restricted_pod_security_standard(overlay: Rendered) -> None:
    """The overlay namespaces enforce "restricted": a pod that does not meet it is never created."""
    for workload in overlay.workloads():
        pod = workload["spec"]["template"]["spec"]
        pod_sc = pod.get("securityContext", {})
        for container in all_containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
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
    sources = {pod_labels(w)["app.kubernetes.io/name"]: pod_labels(w) for w in rendered.workloads()}
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


def find_packages(where: Path, include: list[str]) -> dict[str, Path]:
    """What setuptools' `packages.find` finds: folders with an __init__.py whose parents are packages too."""
    found: dict[str, Path] = {}

    def walk(folder: Path, prefix: str) -> None:
        for child in sorted(folder.iterdir()):
            if child.is_dir() and "." not in child.name and (child / "__init__.py").is_file():
                name = prefix + child.name
                if any(fnmatch(name, pattern) for pattern in include):
                    found[name] = child
                walk(child, name + ".")

    walk(where, "")
    return found


def test_a_regular_install_ships_every_file_in_the_packages() -> None:
    """The image is a regular (not editable) install: a module ships only from a package folder, any
    other file only when [tool.setuptools.package-data] names it. Tests and `make run` use the editable
    install, where everything is there, so a missing pattern breaks only the image (billing's Alembic
    migrations, the catalog seed, ...). Source-only files are left out on purpose."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    package_data = setuptools.get("package-data", {})
    packages: dict[str, Path] = {}
    for where in setuptools["packages"]["find"]["where"]:
        packages |= find_packages(ROOT / where, setuptools["packages"]["find"].get("include", ["*"]))
    shipped: set[Path] = set()
    for name, folder in packages.items():
        shipped |= set(folder.glob("*.py"))
        for pattern in package_data.get("*", []) + package_data.get("", []) + package_data.get(name, []):
            shipped |= {folder / match for match in glob.glob(pattern, root_dir=folder, recursive=True)}
    source_only = ("*.proto",)  # compiled into the *_pb2.py modules that ship
    tops = [folder for name, folder in packages.items() if "." not in name]
    missing = sorted(
        str(path.relative_to(ROOT)) for top in tops for path in top.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
        and path.suffix != ".pyc" and not any(fnmatch(path.name, p) for p in source_only) and path not in shipped)
    assert not missing, "a regular install (the image) leaves these out; add them to " \
                        "[tool.setuptools.package-data] in pyproject.toml:\n" + "\n".join(missing)


def test_image_build_proves_it_has_the_migrations_and_the_seed() -> None:
    """The build runs billing's and the catalog's migrations on a throwaway SQLite file and loads the
    catalog seed, from the installed packages: an image without them fails to build instead of
    failing in the cluster."""
    runs = " ".join(arg for op, arg in dockerfile_instructions() if op == "RUN")
    assert all(f"-m {module}" in runs for module in MIGRATION_MODULES.values()) and "sqlite+aiosqlite:///" in runs
    assert "load_seed(DEFAULT_SEED)" in runs


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
    # Shared values (x-nextmodel-env, like nextmodel-config) are what every service reads; each
    # service adds only its own settings and its own secrets, as in Kubernetes.
    shared = compose()["x-nextmodel-env"]
    assert {k for k in shared if k.startswith("NEXTMODEL_")} <= settings_env_names(BaseServiceSettings)
    variables = {k for k in env if k.startswith("NEXTMODEL_")}
    assert variables <= settings_env_names(spec.settings) | PLANNED_SETTINGS, \
        f"{name}: {sorted(variables - settings_env_names(spec.settings))} are not settings of {name}"
    every_secret = set().union(*SECRET_VARIABLES.values(), *DEV_SECRET_VARIABLES.values())
    assert variables & every_secret == secret_variables(name, dev=True)
    providers = [k for k in env if PROVIDER_VARIABLE.fullmatch(k)]
    assert bool(providers) == (name == "router"), f"{name}: provider credentials belong to the router only"
    check = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{spec.default_port}" in check


@pytest.mark.parametrize("service", MIGRATION_MODULES)
def test_compose_migrates_each_service_before_it_starts(service: str) -> None:
    services = compose()["services"]
    name = f"{service}-migrate"
    migrate, served = services[name], services[service]
    assert migrate["command"] == ["python", "-m", MIGRATION_MODULES[service]]
    assert (migrate["image"], migrate["environment"]) == (served["image"], served["environment"])
    assert migrate["read_only"] is True and migrate["user"] == served["user"]
    # A one-shot: with the services' "unless-stopped" it would run again and again.
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert served["depends_on"][name]["condition"] == "service_completed_successfully"


def test_compose_router_keeps_its_outbox_on_a_volume_and_its_rate_counts_in_redis() -> None:
    router = compose()["services"]["router"]
    env = router["environment"]
    path = Path(env["NEXTMODEL_ROUTER_OUTBOX_PATH"])
    mounts = dict(reversed(volume.split(":")[:2]) for volume in router.get("volumes", []))
    targets = [target for target in mounts if path.is_relative_to(target)]
    assert targets, f"{path} is on the read-only root filesystem"
    assert mounts[targets[0]] in compose()["volumes"], "the outbox needs a named volume (it outlives the container)"
    # A new named volume takes the owner of the image's folder: the service user must own it.
    uid = dockerfile_uid()
    assert any(op == "RUN" and re.search(rf"chown {uid}:\d+ [^&]*{re.escape(targets[0])}", arg)
               for op, arg in dockerfile_instructions()), f"the image must create {targets[0]} owned by {uid}"
    assert env["NEXTMODEL_REDIS_URL"] == compose()["services"]["cache"]["environment"]["NEXTMODEL_REDIS_URL"]
    assert router["depends_on"]["redis"]["condition"] == "service_healthy"
    stop = re.fullmatch(r"(\d+)s", router["stop_grace_period"])
    assert stop and int(stop[1]) > setting(env, RouterSettings, "shutdown_grace_seconds") + \
        OUTBOX_DELIVERY_TIMEOUTS * setting(env, RouterSettings, "internal_timeout")


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
