-- Version 4: wrapped per-subject data keys (privacy/seal.KeyStorage), for
-- store/sealed. A row is one subject's data key encrypted under a keyring
-- key; deleting it crypto-shreds the subject. id is the subject's blind
-- index, never a user id in clear.
CREATE TABLE wagent.subject_keys (
	tenant  text NOT NULL,
	id      text NOT NULL,
	wrapped bytea NOT NULL,
	PRIMARY KEY (tenant, id)
);
