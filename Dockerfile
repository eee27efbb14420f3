# syntax=docker/dockerfile:1
# One recipe for the four service images. Each image holds the shared library `fazhi`, ONE
# service package and only their runtime dependencies, hash-checked against requirements.lock
# (the lock also pins the dev tools: pytest, mypy, ruff, playwright…; they stay out).
#
#   docker build --build-arg SERVICE=petition-mediation -t fazhi/petition-mediation .
#
# SERVICE is the folder under services/ (supervision, petition-mediation, emergency,
# open-government); the importable package is that name with "-" turned into "_".
# The image runs either process of the service:
#   fazhi-api      uvicorn <package>.api:create_app --factory on $HOST:$PORT (0.0.0.0:8000),
#                  on uvloop with the httptools parser
#   fazhi-worker   python -m <package>.worker (faust; web/metrics port from <PREFIX>_WORKER_WEB_PORT)
#   fazhi keys …   the admin CLI (API keys; reads FAZHI_MONGO_URL)
# The default command is fazhi-api. It runs as the non-root user fazhi (uid 10001) and writes
# nothing outside /tmp, so it runs with a read-only root filesystem.

# Pin it by digest for a release: --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest>
# (docker buildx imagetools inspect python:3.11-slim), so a rebuild gets the same base.
ARG PYTHON_IMAGE=python:3.11-slim

# ------------------------------------------------------------------ build: a venv in /opt/venv
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<folder under services/>" >&2; exit 1; }
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:${PATH}
WORKDIR /src

# 1. Dependencies (a layer that only changes with the lock or a pyproject.toml).
#    pip resolves the runtime closure of fazhi + the service with every version pinned by the
#    lock (metadata only, --dry-run); the lock's entries for exactly those packages, hashes
#    included, are then installed in hash-checking mode (deploy/image/lock.py). Builds (fazhi,
#    the service, feedgen's sdist) use the locked hatchling and setuptools, installed first:
#    --no-build-isolation, so pip fetches no unpinned build backend.
COPY requirements.lock deploy/image/lock.py ./
RUN python lock.py build requirements.lock /tmp \
 && pip install --require-hashes -r /tmp/build.lock
COPY libs/fazhi/pyproject.toml libs/fazhi/
COPY services/${SERVICE}/pyproject.toml services/${SERVICE}/
RUN sed -e '/^[[:space:]]*--hash/d' -e 's/[[:space:]]*\\$//' requirements.lock >/tmp/pins.txt \
 && pip install --dry-run --ignore-installed --no-build-isolation --quiet --report /tmp/report.json \
        -c /tmp/pins.txt ./libs/fazhi "./services/${SERVICE}" \
 && python lock.py runtime /tmp/report.json requirements.lock /tmp \
 && pip install --require-hashes --no-build-isolation -r /tmp/runtime.lock

# 2. The two first-party distributions, then a check and the launchers.
COPY libs/fazhi/src libs/fazhi/src
COPY services/${SERVICE}/src services/${SERVICE}/src
RUN pip install --no-deps --no-build-isolation ./libs/fazhi "./services/${SERVICE}" \
 && pip check \
 && pkg=$(printf '%s' "${SERVICE}" | tr - _) \
 && python -c "import ${pkg}.api, ${pkg}.worker" \
 && printf '#!/bin/sh\nexec uvicorn %s.api:create_app --factory --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --no-access-log --loop uvloop --http httptools "$@"\n' \
        "${pkg}" >/opt/venv/bin/fazhi-api \
 && printf '#!/bin/sh\nexec python -m %s.worker "$@"\n' "${pkg}" >/opt/venv/bin/fazhi-worker \
 && chmod 0755 /opt/venv/bin/fazhi-api /opt/venv/bin/fazhi-worker

# ------------------------------------------------------------------ runtime
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="fazhi-${SERVICE}" \
      org.opencontainers.image.description="Fazhi ${SERVICE} service (api and worker)"
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:${PATH} \
    FAZHI_SERVICE=${SERVICE}
RUN groupadd --system --gid 10001 fazhi \
 && useradd --system --uid 10001 --gid fazhi --home-dir /home/fazhi --create-home \
        --shell /usr/sbin/nologin fazhi
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /home/fazhi
EXPOSE 8000
CMD ["fazhi-api"]
