-- Version 5: the records of the privacy engine (package privacy): the
-- consent ledger and the audit log, each one hash chain per tenant; legal
-- holds; data-subject requests. Times are unix microseconds, UTC; NULL
-- stands for the zero time where a record may have none.
--
-- A chain's primary key is (tenant, seq): an entry is appended only as the
-- successor of the chain's last one, checked in the write transaction,
-- which holds the database's write lock.

CREATE TABLE privacy_consent (
	tenant          TEXT NOT NULL,
	seq             INTEGER NOT NULL CHECK (seq > 0),
	-- subject is Record.Subject, '' once the record was erased whole.
	subject         TEXT NOT NULL,
	-- record is the JSON of privacy.ConsentRecord, evidence included
	-- until it is erased.
	record          BLOB NOT NULL,
	record_salt     BLOB,
	record_digest   BLOB NOT NULL CHECK (length(record_digest) = 32),
	evidence_salt   BLOB,
	evidence_digest BLOB NOT NULL CHECK (length(evidence_digest) = 32),
	prev            BLOB NOT NULL CHECK (length(prev) = 32),
	hash            BLOB NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (tenant, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX privacy_consent_subject ON privacy_consent (tenant, subject, seq);

CREATE TABLE privacy_audit (
	tenant  TEXT NOT NULL,
	seq     INTEGER NOT NULL CHECK (seq > 0),
	-- time, action and subject repeat the event's, to query the log in SQL.
	time    INTEGER,
	action  TEXT NOT NULL,
	subject TEXT NOT NULL,
	-- event is the JSON of privacy.AuditEvent.
	event   BLOB NOT NULL,
	prev    BLOB NOT NULL CHECK (length(prev) = 32),
	hash    BLOB NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (tenant, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE privacy_holds (
	-- ord keeps the order holds were first put; replacing keeps it.
	ord       INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant    TEXT NOT NULL,
	id        TEXT NOT NULL,
	subject   TEXT NOT NULL,
	reason    TEXT NOT NULL,
	placed_by TEXT NOT NULL,
	placed    INTEGER,
	expires   INTEGER,
	lifted    INTEGER,
	lifted_by TEXT NOT NULL,
	UNIQUE (tenant, id)
) STRICT;

CREATE TABLE privacy_requests (
	id       TEXT PRIMARY KEY,
	version  INTEGER NOT NULL,
	-- tenant to due repeat the request's fields that queries select by.
	tenant   TEXT NOT NULL,
	subject  TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	type     TEXT NOT NULL,
	status   TEXT NOT NULL,
	received INTEGER NOT NULL,
	due      INTEGER NOT NULL,
	-- body is the JSON of privacy.Request.
	body     BLOB NOT NULL
) STRICT;

CREATE INDEX privacy_requests_received ON privacy_requests (tenant, received, id);
CREATE INDEX privacy_requests_subject ON privacy_requests (tenant, subject) WHERE subject <> '';
CREATE INDEX privacy_requests_user ON privacy_requests (tenant, user_id) WHERE user_id <> '';
CREATE INDEX privacy_requests_open ON privacy_requests (due) WHERE status NOT IN ('completed', 'denied');
