-- Intents, orders placed through the bot, and the audit trail (the schema of the first release).

CREATE TABLE intents (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    message_id INTEGER,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    result TEXT
);

CREATE TABLE orders (
    tag TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL REFERENCES intents(id),
    broker TEXT NOT NULL,
    broker_order_id TEXT,
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    price TEXT NOT NULL,
    status TEXT NOT NULL,
    filled_quantity INTEGER NOT NULL DEFAULT 0,
    average_price TEXT,
    message TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_by_status ON orders(status);
CREATE INDEX orders_by_broker_id ON orders(broker_order_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_id INTEGER,
    kind TEXT NOT NULL,
    what TEXT NOT NULL,
    outcome TEXT
);
