# syntax=docker/dockerfile:1
# Production image of the STEM portal. Build: `docker build -t stem-portal .`
# Configured only through environment variables (DATABASE_URL, BASE_URL, SMTP_*, MAIL_FROM, ...,
# see app/config.py). The default command migrates the database and serves on port 8000.

# --- Front-end libraries from npm, by the lock file ---------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- Python dependencies in a virtual environment -----------------------------------------------
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
# Only the project's runtime dependencies go into the venv, read from pyproject.toml: the app
# itself runs from /app, because it finds templates/, static/ and translations/ next to app/.
# This layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -m venv /opt/venv \
    && python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt

# --- The image that runs -----------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    ENVIRONMENT=production
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin portal
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root and is read-only for the user that runs it.
COPY alembic.ini ./
COPY migrations/ migrations/
COPY translations/ translations/
COPY templates/ templates/
COPY static/ static/
COPY --from=assets /build/node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
COPY --from=assets /build/node_modules/swagger-ui-dist/swagger-ui-bundle.js /build/node_modules/swagger-ui-dist/swagger-ui.css static/vendor/
COPY --from=assets /build/node_modules/dkfds/dist/fonts/IBMPlexSans/complete/woff2/IBMPlexSans-Regular.woff2 /build/node_modules/dkfds/dist/fonts/IBMPlexSans/complete/woff2/IBMPlexSans-Italic.woff2 /build/node_modules/dkfds/dist/fonts/IBMPlexSans/complete/woff2/IBMPlexSans-SemiBold.woff2 /build/node_modules/dkfds/dist/fonts/IBMPlexSans/complete/woff2/IBMPlexSans-Bold.woff2 /build/node_modules/dkfds/dist/fonts/IBMPlexSans/complete/woff2/license.txt static/vendor/dkfds/fonts/
COPY --from=assets /build/node_modules/dkfds/dist/img/all-svg-icons.svg /build/node_modules/dkfds/dist/LICENSE.md static/vendor/dkfds/
COPY app/ app/
COPY --chmod=0755 scripts/docker-entrypoint /usr/local/bin/docker-entrypoint

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["docker-entrypoint"]
CMD ["serve"]
