# syntax=docker/dockerfile:1
# The Python 3.11 image: web app (uvicorn), action server and the `daogou` CLI (db init, models
# build, bot prepare). The Rasa server needs Python 3.10 and has its own image (Dockerfile.rasa).
# Build from the repository root:
#   docker build -f deploy/docker/Dockerfile.app -t daogou-app .
# Every package is pinned by constraints/app.txt, exactly as `make setup` installs them.

# -- the web pages' libraries (web/static/vendor/, git-ignored): npm ci from package-lock.json --
FROM node:22-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor-assets.mjs scripts/
RUN npm ci --no-audit --no-fund --loglevel=error && npm run -s vendor

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app \
    DAOGOU_VAR=/var/lib/daogou
# One uid for both images: the Rasa image reads the credentials this one renders (mode 0600).
RUN groupadd --gid 10001 daogou \
    && useradd --uid 10001 --gid daogou --create-home --shell /usr/sbin/nologin daogou
WORKDIR /app
RUN python -m venv /app/.venv
COPY constraints/app.txt constraints/app.txt
# torch first, as the Makefile does: the CPU build (2.13.0+cpu satisfies the ==2.13.0 pin)
# instead of the multi-GB CUDA one that another package's dependency would pull.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu \
        -c constraints/app.txt torch==2.13.0
# The project's dependencies (pyproject.toml, without the dev extra), in their own layer so that
# a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints/app.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
# The code stays owned by root: the service user reads it and writes only under DAOGOU_VAR.
COPY . .
COPY --from=assets /src/web/static/vendor web/static/vendor
# Editable, so that REPO_ROOT (daogou/settings.py) is /app, where bot/ and data/ are.
RUN pip install --no-deps --no-build-isolation -e . \
    && mkdir -p /var/lib/daogou/index \
    && chown -R daogou:daogou /var/lib/daogou
VOLUME ["/var/lib/daogou"]
USER 10001:10001
EXPOSE 8000 5055
# The web app's /health: 503 while it warms up, 200 when serving (the action server's
# containers override this with port 5055).
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["uvicorn", "--factory", "web.app:app_factory", "--host", "0.0.0.0", "--port", "8000"]
