-- Version 1: subjects, conversations and message records.
--
-- Columns come in three kinds, so that content can later be encrypted
-- without touching the rest:
--   identity: tenant, channel, user, provider ids and phone numbers, which
--             queries look up (a blind index can replace them);
--   metadata: ids, turn, role, times (unix microseconds, UTC), processing,
--             delivery and lease state, kept in metadata-only mode;
--   content:  what was said, as JSON of the store and channel types
--             (inbound message, model parts, outbound message, profile).
-- AUTOINCREMENT keeps the ids of erased rows from ever being given again.

CREATE TABLE subjects (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	channel    TEXT NOT NULL,
	tenant     TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	phone      TEXT,
	profile    BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (channel, tenant, user_id)
) STRICT;

CREATE INDEX subjects_phone ON subjects (channel, tenant, phone) WHERE phone IS NOT NULL;

CREATE TABLE conversations (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	subject          INTEGER NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
	channel          TEXT NOT NULL,
	tenant           TEXT NOT NULL,
	user_id          TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	last_inbound_at  INTEGER NOT NULL,
	handoff_owner    INTEGER NOT NULL DEFAULT 0,
	handoff_operator TEXT NOT NULL DEFAULT '',
	handoff_reason   TEXT NOT NULL DEFAULT '',
	handoff_since    INTEGER NOT NULL,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_until      INTEGER NOT NULL DEFAULT 0,
	UNIQUE (channel, tenant, user_id)
) STRICT;

CREATE INDEX conversations_subject ON conversations (subject);

CREATE TABLE messages (
	id                   INTEGER PRIMARY KEY AUTOINCREMENT,
	conversation         INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	tenant               TEXT NOT NULL,
	channel              TEXT NOT NULL,
	provider_id          TEXT,
	turn                 INTEGER NOT NULL,
	role                 TEXT NOT NULL,
	time                 INTEGER NOT NULL,
	process_state        INTEGER NOT NULL,
	process_attempts     INTEGER NOT NULL,
	process_reason       TEXT NOT NULL,
	process_updated_at   INTEGER NOT NULL,
	delivery_state       INTEGER NOT NULL,
	delivery_attempts    INTEGER NOT NULL,
	delivery_error_code  INTEGER NOT NULL,
	delivery_error_title TEXT NOT NULL,
	delivery_updated_at  INTEGER NOT NULL,
	content_removed      INTEGER NOT NULL,
	has_media            INTEGER NOT NULL,
	inbound              BLOB,
	parts                BLOB,
	outbound             BLOB
) STRICT;

-- The idempotency key of inbound messages.
CREATE UNIQUE INDEX messages_inbound_key ON messages (channel, tenant, provider_id) WHERE role = 'user';
-- UpdateDelivery by provider id.
CREATE INDEX messages_provider ON messages (tenant, provider_id) WHERE role <> 'user' AND provider_id IS NOT NULL;
-- History, in (turn, id) order; also finds a conversation's records.
CREATE INDEX messages_history ON messages (conversation, turn, id);
-- Pending, in id order, and per conversation (LeasePending).
CREATE INDEX messages_pending ON messages (id) WHERE role = 'user' AND process_state = 0;
CREATE INDEX messages_pending_conversation ON messages (conversation, id) WHERE role = 'user' AND process_state = 0;
-- Retention purges by age: content not yet removed, and media.
CREATE INDEX messages_retention ON messages (content_removed, time);
CREATE INDEX messages_media ON messages (time) WHERE has_media = 1;
