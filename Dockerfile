# syntax=docker/dockerfile:1
# Springboard's one image: every service (`springboard run ingest|recommender|notifier`),
# or by default the whole system for one person on the embedded broker (`springboard up`).
# The base is pinned by digest (the python:3.11-slim-bookworm index, amd64 and arm64), and
# every Python dependency by version and hash (requirements/runtime.txt, `make lock`).

FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
# Dependencies first: a change to the code rebuilds only the last layer of this stage.
COPY requirements/runtime.txt requirements/runtime.txt
RUN python -m venv /opt/springboard \
    && /opt/springboard/bin/pip install --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
RUN /opt/springboard/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba
RUN groupadd --system --gid 10001 springboard \
    && useradd --system --uid 10001 --gid springboard --home-dir /var/lib/springboard \
       --shell /usr/sbin/nologin springboard \
    && mkdir -p /var/lib/springboard \
    && chown springboard:springboard /var/lib/springboard
COPY --from=build /opt/springboard /opt/springboard
ENV PATH=/opt/springboard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SPRINGBOARD_DATA_DIR=/var/lib/springboard \
    SPRINGBOARD_HTTP_HOST=0.0.0.0 \
    SPRINGBOARD_HTTP_PORT=8000
# The data directory holds the model store (<data dir>/models), the secrets key file and,
# without PostgreSQL, the SQLite stores: mount a volume here to keep them.
WORKDIR /var/lib/springboard
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SPRINGBOARD_HTTP_PORT', '8000') + '/ready', timeout=4)"]
CMD ["springboard", "up"]
