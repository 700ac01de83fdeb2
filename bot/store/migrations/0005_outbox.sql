-- The persistent outbox (issue 12): every push is written here before it is sent, so nothing the
-- user must learn is lost while Telegram is unreachable or the bot restarts. One row is one
-- message part (a long text is split before it is written); `coalesce_key` names the kind of
-- rows that may be merged into one message when several wait for the same chat (NULL: never).
-- `status`: PENDING until Telegram accepted it (SENT) or refused it for good (FAILED).

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    markup INTEGER NOT NULL DEFAULT 1,
    keyboard TEXT,
    silent INTEGER NOT NULL DEFAULT 0,
    coalesce_key TEXT,
    status TEXT NOT NULL DEFAULT 'PENDING',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX outbox_waiting ON outbox(chat_id, id) WHERE status = 'PENDING';
CREATE INDEX outbox_done ON outbox(done_at) WHERE status != 'PENDING';
