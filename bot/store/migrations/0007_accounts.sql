-- Several accounts in one bot (issue 14): intents, orders, alerts and daily summaries belong to
-- one account, by its short name. Rows of a single-account database get '' here and are given
-- the account's name at start-up (`Store.adopt`), when the name is known; nothing is lost.
ALTER TABLE intents ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE INDEX orders_by_account ON orders(account, status);
CREATE INDEX alerts_by_account ON alerts(account, status);

-- One summary per account and day (the day alone was the key while there was one account).
CREATE TABLE account_summaries (
    account TEXT NOT NULL,
    day TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (account, day)
);
INSERT INTO account_summaries (account, day, sent_at) SELECT '', day, sent_at FROM daily_summaries;
DROP TABLE daily_summaries;

-- Each user's default account: what a command acts on when it names none (/account switches it).
CREATE TABLE account_choices (
    user_id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The session and IP incidents in the audit trail name their account, so each account's daily
-- summary lists its own.
ALTER TABLE audit ADD COLUMN account TEXT NOT NULL DEFAULT '';
