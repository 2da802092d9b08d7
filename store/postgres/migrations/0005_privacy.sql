-- The records of the privacy engine (package privacy): the consent ledger
-- and the audit log, each one hash chain per tenant; legal holds;
-- data-subject requests. Every name is qualified with "wagent.", which
-- Open replaces with the configured schema.
--
-- A chain's primary key is (tenant, seq), and an entry is inserted only
-- when its seq follows the chain's last: of two instances appending the
-- same seq at once, one inserts and the other finds the key taken.

CREATE TABLE wagent.privacy_consent (
	tenant          text NOT NULL,
	seq             bigint NOT NULL CHECK (seq > 0),
	-- subject is record's subject, '' once the record was erased whole.
	subject         text NOT NULL,
	-- record is the JSON of privacy.ConsentRecord, evidence included
	-- until it is erased.
	record          bytea NOT NULL,
	record_salt     bytea,
	record_digest   bytea NOT NULL CHECK (octet_length(record_digest) = 32),
	evidence_salt   bytea,
	evidence_digest bytea NOT NULL CHECK (octet_length(evidence_digest) = 32),
	prev            bytea NOT NULL CHECK (octet_length(prev) = 32),
	hash            bytea NOT NULL CHECK (octet_length(hash) = 32),
	CONSTRAINT privacy_consent_pkey PRIMARY KEY (tenant, seq)
);
CREATE INDEX privacy_consent_subject_idx ON wagent.privacy_consent (tenant, subject, seq);

CREATE TABLE wagent.privacy_audit (
	tenant  text NOT NULL,
	seq     bigint NOT NULL CHECK (seq > 0),
	-- time, action and subject repeat the event's, to query the log in SQL.
	time    timestamptz,
	action  text NOT NULL,
	subject text NOT NULL,
	-- event is the JSON of privacy.AuditEvent.
	event   bytea NOT NULL,
	prev    bytea NOT NULL CHECK (octet_length(prev) = 32),
	hash    bytea NOT NULL CHECK (octet_length(hash) = 32),
	CONSTRAINT privacy_audit_pkey PRIMARY KEY (tenant, seq)
);

CREATE TABLE wagent.privacy_holds (
	-- ord keeps the order holds were first put; replacing keeps it.
	ord       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant    text NOT NULL,
	id        text NOT NULL,
	subject   text NOT NULL,
	reason    text NOT NULL,
	placed_by text NOT NULL,
	placed    timestamptz,
	expires   timestamptz,
	lifted    timestamptz,
	lifted_by text NOT NULL,
	CONSTRAINT privacy_holds_id_key UNIQUE (tenant, id)
);

CREATE TABLE wagent.privacy_requests (
	-- Ids compare byte for byte, as FindRequests orders by them.
	id       text COLLATE "C" PRIMARY KEY,
	version  bigint NOT NULL,
	-- tenant to due repeat the request's fields that queries select by;
	-- NULL times stand for the zero time.
	tenant   text NOT NULL,
	subject  text NOT NULL,
	user_id  text NOT NULL,
	type     text NOT NULL,
	status   text NOT NULL,
	received timestamptz,
	due      timestamptz,
	-- body is the JSON of privacy.Request.
	body     bytea NOT NULL
);
CREATE INDEX privacy_requests_received_idx ON wagent.privacy_requests (tenant, received, id);
CREATE INDEX privacy_requests_subject_idx ON wagent.privacy_requests (tenant, subject) WHERE subject <> '';
CREATE INDEX privacy_requests_user_idx ON wagent.privacy_requests (tenant, user_id) WHERE user_id <> '';
CREATE INDEX privacy_requests_open_idx ON wagent.privacy_requests (due) WHERE status NOT IN ('completed', 'denied');
