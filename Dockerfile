FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY simulator ./simulator
COPY fixtures ./fixtures
COPY schemas ./schemas
RUN pip install --no-cache-dir . && rm -rf /src

RUN useradd --system --uid 10001 modsim
USER modsim
WORKDIR /home/modsim
EXPOSE 8080

# The admin API stays loopback-only inside the container unless MODSIM_ADMIN_ALLOW_REMOTE=1,
# which needs a MODSIM_ADMIN_TOKEN too (modsim serve refuses to start without one).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/__modsim/health', timeout=2).status == 200 else 1)"

ENTRYPOINT ["modsim", "serve", "--host", "0.0.0.0", "--port", "8080"]
