FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY brokers ./brokers
COPY handlers ./handlers
RUN pip install . && useradd --create-home --uid 10001 tradebot && mkdir /data && chown tradebot /data

USER tradebot
ENV DATABASE_PATH=/data/tradebot.db PAPER_STATE_PATH=/data/paper.json
VOLUME ["/data"]
ENTRYPOINT ["python", "-m", "bot"]
