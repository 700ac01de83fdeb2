-- Daily limits (issue 15). `limit_settings`: the limits an admin changed from chat, per account
-- (its name: several accounts share one database) and kind; a kind without a row takes its
-- setting (DAILY_MAX_LOSS, DAILY_MAX_ORDERS, MAX_ORDER_VALUE). `value` is a decimal text, '0'
-- for no limit.
CREATE TABLE limit_settings (
    account TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('loss', 'orders', 'value')),
    value TEXT NOT NULL,
    set_by INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, kind)
);

-- `limit_halts`: each time an account halted, on which trading day (IST date: a halt ends with
-- its day), which limit, its value and what was measured then, and who resumed it. At most one
-- halt is open per account and day, so however many checks notice the breach at once, one
-- writes the row (and pushes the admins).
CREATE TABLE limit_halts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    limit_value TEXT NOT NULL,
    actual TEXT NOT NULL,
    halted_at TEXT NOT NULL,
    resumed_at TEXT,
    resumed_by INTEGER
);
CREATE UNIQUE INDEX limit_halts_open ON limit_halts(account, day) WHERE resumed_at IS NULL;
