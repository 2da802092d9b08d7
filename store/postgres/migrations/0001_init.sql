-- The initial schema. Every name is qualified with "wagent.", which Open
-- replaces with the configured schema.
--
-- Columns fall into three kinds, so that a later migration can encrypt
-- what was said without touching the rest:
--   identity and index columns: tenant, channel, user_id, provider_id, phone;
--   content columns (BYTEA holding the JSON of the store and channel types):
--     subjects.profile, messages.content;
--   metadata columns: times, roles, states, counters, error codes, flags.

CREATE TABLE wagent.subjects (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	channel     text NOT NULL,
	tenant      text NOT NULL,
	user_id     text NOT NULL,
	-- phone is the profile's phone, kept apart to find a subject by it;
	-- phone_since orders subjects that share one (the latest wins).
	phone       text,
	phone_since timestamptz,
	-- profile is the JSON of channel.Profile.
	profile     bytea,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	CONSTRAINT subjects_address_key UNIQUE (channel, tenant, user_id)
);
CREATE INDEX subjects_phone_idx ON wagent.subjects (channel, tenant, phone, phone_since DESC, id DESC)
	WHERE phone IS NOT NULL;

CREATE TABLE wagent.conversations (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	subject_id       bigint NOT NULL REFERENCES wagent.subjects (id) ON DELETE CASCADE,
	channel          text NOT NULL,
	tenant           text NOT NULL,
	user_id          text NOT NULL,
	handoff_owner    smallint NOT NULL DEFAULT 0,
	handoff_operator text NOT NULL DEFAULT '',
	handoff_reason   text NOT NULL DEFAULT '',
	handoff_since    timestamptz,
	created_at       timestamptz NOT NULL,
	last_inbound_at  timestamptz,
	CONSTRAINT conversations_address_key UNIQUE (channel, tenant, user_id)
);
CREATE INDEX conversations_subject_idx ON wagent.conversations (subject_id);

-- One sequence numbers every record, so that ids increase across the store.
CREATE SEQUENCE wagent.message_ids AS bigint;

CREATE TABLE wagent.messages (
	id                   bigint PRIMARY KEY DEFAULT nextval('wagent.message_ids'),
	tenant               text NOT NULL,
	conversation_id      bigint NOT NULL REFERENCES wagent.conversations (id) ON DELETE CASCADE,
	turn                 bigint NOT NULL,
	role                 text NOT NULL,
	time                 timestamptz NOT NULL,
	-- channel is set on inbound records only: with tenant and provider_id
	-- it is their idempotency key. Other records leave it NULL, which never
	-- conflicts.
	channel              text,
	provider_id          text NOT NULL DEFAULT '',
	-- content is the JSON of what was said: the received message, the
	-- model's parts, the outbound message.
	content              bytea NOT NULL,
	has_media            boolean NOT NULL DEFAULT false,
	content_removed      boolean NOT NULL DEFAULT false,
	process_state        smallint NOT NULL DEFAULT 0,
	process_attempts     bigint NOT NULL DEFAULT 0,
	process_reason       text NOT NULL DEFAULT '',
	process_updated_at   timestamptz,
	delivery_state       smallint NOT NULL DEFAULT 0,
	delivery_attempts    bigint NOT NULL DEFAULT 0,
	delivery_error_code  bigint NOT NULL DEFAULT 0,
	delivery_error_title text NOT NULL DEFAULT '',
	delivery_updated_at  timestamptz,
	CONSTRAINT messages_inbound_key UNIQUE (channel, tenant, provider_id)
);
ALTER SEQUENCE wagent.message_ids OWNED BY wagent.messages.id;
CREATE INDEX messages_history_idx ON wagent.messages (conversation_id, turn, id);
CREATE INDEX messages_pending_idx ON wagent.messages (id)
	WHERE role = 'user' AND process_state = 0;
CREATE INDEX messages_pending_conversation_idx ON wagent.messages (conversation_id, id)
	WHERE role = 'user' AND process_state = 0;
CREATE INDEX messages_provider_idx ON wagent.messages (tenant, provider_id, id)
	WHERE channel IS NULL AND provider_id <> '';
CREATE INDEX messages_time_idx ON wagent.messages (time);

CREATE TABLE wagent.leases (
	conversation_id bigint PRIMARY KEY REFERENCES wagent.conversations (id) ON DELETE CASCADE,
	tenant          text NOT NULL,
	owner           text NOT NULL,
	until           timestamptz NOT NULL
);
