# cadence-bot: `cadence-bot serve` on port 8080, conversations in SQLite on the /data volume.
#
#   docker build -t cadence-bot .
#   docker run --env-file .env -p 8080:8080 -v cadence-bot-data:/data cadence-bot
#
# Configuration is the environment (.env.example lists every variable); `docker run ... cadence-bot check`
# says what is configured and whether each part answers. compose.yaml runs it beside a local Cadence.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# `pip install .` of the source tree, as in a clean virtualenv (tests/test_packaging.py builds this wheel).
# Every dependency ships manylinux wheels (psycopg[binary] included), so no compiler is needed.
COPY pyproject.toml README.md LICENSE /src/
COPY cadence_adapter /src/cadence_adapter
COPY bot /src/bot
COPY channels /src/channels
RUN pip install /src && rm -rf /src

# A system user without a login shell; /data, its own, holds the SQLite database and survives upgrades
# (a new named volume takes the directory's owner from the image).
RUN groupadd --system --gid 10001 cadence \
    && useradd --system --uid 10001 --gid cadence --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin cadence \
    && install --directory --owner=cadence --group=cadence --mode=0750 /data
ENV BOT_DATABASE=/data/cadence-bot.db
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001

EXPOSE 8080
# /healthz is liveness: 200 while the process serves (an HTTPError or no answer here otherwise), so an
# outage of Cadence does not get a healthy bot restarted; /readyz (database writable, Cadence answering) is
# for a load balancer.
# It follows the default CMD's port: change both if you serve on another.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", \
         "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

ENTRYPOINT ["cadence-bot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
