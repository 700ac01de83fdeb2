-- Notification preferences (issue 12): one row per user and event kind they changed; a kind
-- without a row takes its default (bot.notify.preferences). `choice` is on, silent or off.
CREATE TABLE notify_preferences (
    user_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('on', 'silent', 'off')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- The trading days whose daily summary went out: one row per day, written when it is sent, so a
-- restart after the summary time does not send it twice.
CREATE TABLE daily_summaries (
    day TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
);
