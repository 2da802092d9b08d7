-- Version 2: support tickets and the tags of inbound records.
--
-- Tickets belong to a subject and go with it: erasing the subject deletes
-- them (ON DELETE CASCADE; foreign keys are on for every connection).
-- ticket_counters keeps the last number given in each tenant, so that a
-- number is never given twice, also after the latest ticket was erased.

CREATE TABLE ticket_counters (
	tenant TEXT PRIMARY KEY,
	last   INTEGER NOT NULL
) STRICT;

CREATE TABLE tickets (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant       TEXT NOT NULL,
	seq          INTEGER NOT NULL,
	number       TEXT NOT NULL,
	subject      INTEGER NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
	conversation INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
	status       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	-- content: the title and the summary.
	title        TEXT NOT NULL,
	summary      TEXT NOT NULL,
	UNIQUE (tenant, number)
) STRICT;

CREATE INDEX tickets_subject ON tickets (subject, seq);
CREATE INDEX tickets_conversation ON tickets (conversation, seq) WHERE conversation IS NOT NULL;

CREATE TABLE ticket_notes (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	ticket  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	time    INTEGER NOT NULL,
	author  TEXT NOT NULL,
	text    TEXT NOT NULL
) STRICT;

CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket, id);

-- The tags of inbound records (intent, sentiment, extracted values), as
-- the JSON of store.Tags; deleted with their record.
CREATE TABLE message_tags (
	message INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
	tags    BLOB NOT NULL
) STRICT;
