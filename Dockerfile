FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY brokers ./brokers
COPY handlers ./handlers
RUN pip install . && useradd --create-home --uid 10001 tradebot && mkdir /data && chown tradebot /data

USER tradebot
# Every file the bot keeps goes in the volume. `.env.example` leaves DATA_DIR and the path
# settings commented, so `docker run --env-file .env` does not override this.
ENV DATA_DIR=/data
VOLUME ["/data"]
# The running bot touches /data/heartbeat every 30 s while it polls Telegram (bot/app/health.py).
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
  CMD ["python", "-m", "bot.app.health"]
ENTRYPOINT ["python", "-m", "bot"]
