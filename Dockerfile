# modsim in a container: every vendor on port 8080, the admin API reachable from the host with a token.
#
#   docker build -t modsim .
#   docker run -d --name modsim -p 8080:8080 modsim        # prints a generated admin token: docker logs modsim
#   docker run -d --name modsim -p 8080:8080 -e MODSIM_ADMIN_TOKEN=my-token modsim   # or pass your own
#
# See the README's "Docker" section (and compose.yaml for fixtures mounted from a host folder).
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY simulator ./simulator
COPY fixtures ./fixtures
COPY schemas ./schemas
RUN pip install --no-cache-dir '.[redis]' && rm -rf /src

RUN useradd --system --create-home --uid 10001 modsim
USER modsim
WORKDIR /home/modsim

# With -p, the host's requests arrive from the bridge's gateway, not loopback: the admin API is open to
# remote callers, and only with X-Modsim-Token. "generate" picks a random token at every start and
# prints it (docker logs); -e MODSIM_ADMIN_TOKEN=... fixes one. Remote callers never see secrets.
ENV MODSIM_HOST=0.0.0.0 \
    MODSIM_PORT=8080 \
    MODSIM_ADMIN_ALLOW_REMOTE=1 \
    MODSIM_ADMIN_TOKEN=generate \
    PYTHONUNBUFFERED=1
EXPOSE 8080

# /__modsim/health answers {"status":"ok"} to anyone, token or not: the probe needs no secret.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/__modsim/health' % os.environ.get('MODSIM_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(url, timeout=2).status == 200 else 1)"]

# Exec form: modsim is PID 1 and gets docker stop's SIGTERM itself (it shuts down within a second
# when nothing is in flight). `docker run modsim serve --seed 7`, `docker run --rm modsim scenarios`.
ENTRYPOINT ["modsim"]
CMD ["serve"]
