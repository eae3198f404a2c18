# The orchestrator and the worker runner in one image.
#
#   docker build -t blueprint-orchestrator .
#   docker run --rm -p 8080:8080 blueprint-orchestrator orchestrator serve --host 0.0.0.0 --dev \
#       --blueprints orchestrator.examples.greeting
#
# The default command serves on 0.0.0.0:8080 and takes everything else (Redis URL, tokens,
# blueprints) from ORCH_* variables and the YAML file named by ORCH_CONFIG; see
# docker-compose.yml and docs/deployment.md. The same image runs workers:
#   docker run ... blueprint-orchestrator worker run orchestrator.examples.greeting_worker:worker
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# Every dependency (orjson, hiredis, uvloop, lupa, ...) ships wheels for this platform, so no
# compiler is needed. The source is removed once installed: the image runs the installed package.
COPY . /src
RUN pip install --no-cache-dir "/src[s3,fast,processes]" \
    && rm -rf /src \
    && groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --home-dir /app --create-home --shell /usr/sbin/nologin app

USER app
WORKDIR /app

EXPOSE 8080

# No curl in the slim image: ask /_public/status with the standard library. It answers 503 when
# Redis does not, which marks the container unhealthy. Worker containers should disable this
# check (docker-compose.yml does).
HEALTHCHECK --interval=10s --timeout=4s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/_public/status', timeout=3).status == 200 else 1)"]

CMD ["orchestrator", "serve", "--host", "0.0.0.0", "--port", "8080"]
