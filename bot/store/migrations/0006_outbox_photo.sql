-- A push may be a picture (the daily P&L chart): its PNG bytes, with `text` as the caption. It
-- goes through the outbox like every push, so a chart is not lost while Telegram is away.
ALTER TABLE outbox ADD COLUMN photo BLOB;
