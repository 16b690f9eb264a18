# syntax=docker/dockerfile:1
# One image for every citycert process: `citycert worker` (the default command) and `citycert api`.
# Configuration comes only from CITYCERT_* variables (runtime/settings.py); see docker-compose.yml.

# Base images by digest (the tag names the version, the digest the exact image).
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d AS build
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

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /app
# Dependencies first, every one pinned with its hashes in deploy/requirements.lock (`make lock`,
# from pyproject.toml), so a change to our own code rebuilds only the last layer and a package
# swapped on the index fails the build. Left out: the embedded servers (deploy/image_requirements.py
# says why).
COPY deploy/requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin citycert \
    && chown citycert /app \
    && install -d -o citycert -m 0700 /var/lib/citycert

USER citycert
# Used only when CITYCERT_DATABASE_URL or CITYCERT_TEMPORAL_ADDRESS is unset (embedded servers).
ENV CITYCERT_DATA_DIR=/app/.citycert
CMD ["citycert", "worker"]
