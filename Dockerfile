# The hydrascope service image: everything installed once, at build time; runs as a non-root user.
#   docker build -t hydrascope .      (docker-compose.yml builds it for you)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin hydrascope

WORKDIR /srv/hydrascope
COPY pyproject.toml setup.py README.md alembic.ini ./
COPY app ./app
COPY graph ./graph
COPY worlds ./worlds
COPY migrations ./migrations
# editable: the migrations stay beside the code, where `hydrascope db upgrade` finds them;
# the source is owned by root and read-only for the service user. gcc is there only while
# pip builds graph/signals/_kernels.c (ingest's compiled skeleton and MinHash), then removed.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --editable . \
    && python -c "import app, graph, worlds; from graph.signals import _kernels; from app.ingest import _cardscan" \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

USER hydrascope
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["sh", "-c", "hydrascope db upgrade && exec hydrascope serve --host 0.0.0.0 --port 8000"]
