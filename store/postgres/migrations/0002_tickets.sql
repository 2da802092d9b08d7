-- Version 2: support tickets and the tags of inbound records.
--
-- Tickets belong to a subject and go with it: erasing the subject deletes
-- them (ON DELETE CASCADE). ticket_counters keeps the last number given in
-- each tenant, so that a number is never given twice, also after the
-- latest ticket was erased; its row lock orders racing CreateTicket calls.

CREATE TABLE wagent.ticket_counters (
	tenant text PRIMARY KEY,
	last   bigint NOT NULL
);

CREATE TABLE wagent.tickets (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant          text NOT NULL,
	seq             bigint NOT NULL,
	number          text NOT NULL,
	subject_id      bigint NOT NULL REFERENCES wagent.subjects (id) ON DELETE CASCADE,
	conversation_id bigint REFERENCES wagent.conversations (id) ON DELETE SET NULL,
	status          text NOT NULL,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	-- content: the title and the summary.
	title           text NOT NULL,
	summary         text NOT NULL,
	CONSTRAINT tickets_number_key UNIQUE (tenant, number)
);
CREATE INDEX tickets_subject_idx ON wagent.tickets (subject_id, seq);
CREATE INDEX tickets_conversation_idx ON wagent.tickets (conversation_id, seq) WHERE conversation_id IS NOT NULL;

CREATE TABLE wagent.ticket_notes (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticket_id bigint NOT NULL REFERENCES wagent.tickets (id) ON DELETE CASCADE,
	time      timestamptz NOT NULL,
	author    text NOT NULL,
	text      text NOT NULL
);
CREATE INDEX ticket_notes_ticket_idx ON wagent.ticket_notes (ticket_id, id);

-- The tags of inbound records (intent, sentiment, extracted values), as
-- the JSON of store.Tags; deleted with their record.
CREATE TABLE wagent.message_tags (
	message_id bigint PRIMARY KEY REFERENCES wagent.messages (id) ON DELETE CASCADE,
	tags       bytea NOT NULL
);
