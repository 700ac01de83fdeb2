-- Price alerts (issue 12): one row per alert a user set, with the state that keeps it from firing
-- twice for one move across a restart (`side`: where the last fresh price was, relative to the
-- level; `fired_at`: the last time it fired, for the repeat cool-down).

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    reference TEXT,
    note TEXT NOT NULL DEFAULT '',
    repeat INTEGER NOT NULL DEFAULT 0,
    cooldown_seconds INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    side TEXT,
    fired_at TEXT,
    fire_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX alerts_by_status ON alerts(status);
CREATE INDEX alerts_by_user ON alerts(user_id, status);
