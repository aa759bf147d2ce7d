# One image for all five services; the container command picks one:
#   python -m nextmodel_edge.server      (HTTP 8080, the default)
#   python -m nextmodel_router.server    (gRPC 50051)
#   python -m nextmodel_cache.server     (gRPC 50052)
#   python -m nextmodel_billing.server   (gRPC 50053)
#   python -m nextmodel_catalog.server   (gRPC 50054)
#   python -m nextmodel_billing.store.migrate   (billing's schema upgrade: the migrate Job)
#   python -m nextmodel_catalog.store.migrate   (the catalog's schema upgrade: the migrate Job)
# Build from the repository root: docker build -t nextmodel:dev .
# Pin PYTHON_IMAGE by digest in CI (python:3.11-slim@sha256:...) for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/nextmodel \
 && /opt/nextmodel/bin/pip install pip==25.3
WORKDIR /src
# Dependencies first, from pyproject.toml pinned by constraints.txt, so editing the code
# reuses this layer. Every dependency ships a manylinux wheel, so no compiler is needed.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && /opt/nextmodel/bin/pip install -c constraints.txt -r /tmp/requirements.txt
COPY README.md ./
COPY protos ./protos
COPY common ./common
COPY edge ./edge
COPY router-svc ./router-svc
COPY cache-svc ./cache-svc
COPY billing-svc ./billing-svc
COPY catalog-svc ./catalog-svc
COPY cli ./cli
COPY cachesafety ./cachesafety
# A regular (not editable) install: the runtime stage needs only /opt/nextmodel.
# pip compiles the .pyc files here, so nothing is written at run time.
# Then prove the install has its package data (pyproject.toml's [tool.setuptools.package-data]),
# which an editable install would not miss: the catalog's seed, and billing's and the catalog's
# Alembic migrations, run here against a throwaway SQLite file (from /tmp, so imports come from the
# install, not /src).
RUN /opt/nextmodel/bin/pip install -c constraints.txt . \
 && cd /tmp \
 && /opt/nextmodel/bin/python -c "import nextmodel_edge.server, nextmodel_router.server, nextmodel_cache.server, nextmodel_billing.server, nextmodel_catalog.server" \
 && /opt/nextmodel/bin/python -c "from nextmodel_catalog.config import DEFAULT_SEED; from nextmodel_catalog.domain import load_seed; load_seed(DEFAULT_SEED)" \
 && NEXTMODEL_DATABASE_URL=sqlite+aiosqlite:////tmp/migrate-check.db /opt/nextmodel/bin/python -m nextmodel_billing.store.migrate \
 && NEXTMODEL_DATABASE_URL=sqlite+aiosqlite:////tmp/migrate-check.db /opt/nextmodel/bin/python -m nextmodel_catalog.store.migrate \
 && rm -f /tmp/migrate-check.db*

FROM ${PYTHON_IMAGE}
# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
RUN groupadd --system --gid 10001 nextmodel \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nextmodel \
 && mkdir -p /app/.data /var/lib/nextmodel \
 && chown 10001:10001 /app/.data /var/lib/nextmodel
COPY --from=build /opt/nextmodel /opt/nextmodel
# The root filesystem may be read-only: Python writes no bytecode, HOME points at /tmp (an
# emptyDir or tmpfs in Kubernetes and compose). /app/.data holds the embedded SQLite files when
# NEXTMODEL_DATABASE_URL is unset; with a read-only root it needs a volume of its own.
# /var/lib/nextmodel is where the manifests mount the router's data volume (its settlement outbox,
# NEXTMODEL_ROUTER_OUTBOX_PATH); owned by 10001 so a new compose volume there is too.
ENV PATH=/opt/nextmodel/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    NEXTMODEL_BIND_HOST=0.0.0.0
WORKDIR /app
USER 10001:10001
EXPOSE 8080 50051 50052 50053 50054
# Python is PID 1: every service installs its own SIGTERM handler (health NOT_SERVING, then drain).
CMD ["python", "-m", "nextmodel_edge.server"]
