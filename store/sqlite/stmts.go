package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The columns every query of a record, conversation or subject reads, in
// the order scanMessage, scanConversation and scanSubject take them.
const (
	messageColumns = `id, conversation, tenant, coalesce(provider_id, ''), turn, role, time,
	process_state, process_attempts, process_reason, process_updated_at,
	delivery_state, delivery_attempts, delivery_error_code, delivery_error_title, delivery_updated_at,
	content_removed, inbound, parts, outbound`
	conversationColumns = `id, subject, channel, tenant, user_id, created_at, last_inbound_at,
	handoff_owner, handoff_operator, handoff_reason, handoff_since`
	subjectColumns = `id, channel, tenant, user_id, profile, created_at, updated_at`
)

// Queries shared by the read pool and the writer.
//
// A LIMIT is written as a parameter plus 0: SQLite reads a bare parameter
// in LIMIT when it plans the query, and so prepares the statement again
// each time a value is bound to it, which took as long as the query.
const (
	qMessage               = `SELECT ` + messageColumns + ` FROM messages WHERE id = ?1 AND tenant = ?2`
	qConversation          = `SELECT ` + conversationColumns + ` FROM conversations WHERE id = ?1 AND tenant = ?2`
	qConversationAt        = `SELECT ` + conversationColumns + ` FROM conversations WHERE channel = ?1 AND tenant = ?2 AND user_id = ?3`
	qConversationsOf       = `SELECT ` + conversationColumns + ` FROM conversations WHERE subject = ?1 ORDER BY id`
	qSubject               = `SELECT ` + subjectColumns + ` FROM subjects WHERE id = ?1 AND tenant = ?2`
	qSubjectAt             = `SELECT ` + subjectColumns + ` FROM subjects WHERE channel = ?1 AND tenant = ?2 AND user_id = ?3`
	qSubjectByPhone        = `SELECT ` + subjectColumns + ` FROM subjects WHERE channel = ?1 AND tenant = ?2 AND phone = ?3 ORDER BY updated_at DESC, id DESC LIMIT 1`
	qHistory               = `SELECT ` + messageColumns + ` FROM messages WHERE conversation = ?1 AND turn <= ?2 ORDER BY turn DESC, id DESC LIMIT ?3 + 0`
	qRecordsOf             = `SELECT ` + messageColumns + ` FROM messages WHERE conversation = ?1 ORDER BY turn, id`
	qPending               = `SELECT ` + messageColumns + ` FROM messages WHERE role = 'user' AND process_state = 0 ORDER BY id LIMIT ?1 + 0`
	qPendingOfTenant       = `SELECT ` + messageColumns + ` FROM messages WHERE role = 'user' AND process_state = 0 AND tenant = ?1 ORDER BY id LIMIT ?2 + 0`
	qPendingOfConversation = `SELECT ` + messageColumns + ` FROM messages WHERE role = 'user' AND process_state = 0 AND conversation = ?1 ORDER BY id LIMIT ?2 + 0`
)

// readStmts are the statements of the read pool, prepared once and on
// each connection as it is first used.
type readStmts struct {
	message, conversation, conversationAt, conversationsOf *sql.Stmt
	subject, subjectAt, subjectByPhone                     *sql.Stmt
	history, recordsOf                                     *sql.Stmt
	pending, pendingOfTenant, pendingOfConversation        *sql.Stmt
}

func prepareReads(ctx context.Context, db *sql.DB) (*readStmts, error) {
	r := &readStmts{}
	err := prepare(ctx, db.PrepareContext, []stmtDef{
		{&r.message, qMessage},
		{&r.conversation, qConversation},
		{&r.conversationAt, qConversationAt},
		{&r.conversationsOf, qConversationsOf},
		{&r.subject, qSubject},
		{&r.subjectAt, qSubjectAt},
		{&r.subjectByPhone, qSubjectByPhone},
		{&r.history, qHistory},
		{&r.recordsOf, qRecordsOf},
		{&r.pending, qPending},
		{&r.pendingOfTenant, qPendingOfTenant},
		{&r.pendingOfConversation, qPendingOfConversation},
	})
	return r, err
}

func (r *readStmts) close() error {
	return closeStmts(r.message, r.conversation, r.conversationAt, r.conversationsOf,
		r.subject, r.subjectAt, r.subjectByPhone, r.history, r.recordsOf,
		r.pending, r.pendingOfTenant, r.pendingOfConversation)
}

// wtx is the writer connection with its statements. Only the leader of a
// batch uses it, inside the batch's transaction.
type wtx struct {
	conn  *sql.Conn
	stmts writeStmts
}

type writeStmts struct {
	begin, commit, rollback, totalChanges *sql.Stmt

	message, conversation, conversationAt, subject *sql.Stmt
	inboundByKey, outboundByProvider               *sql.Stmt

	insertSubject, insertConversation, insertMessage *sql.Stmt
	updateProfile, updateLastInbound                 *sql.Stmt
	setProcessing, roleOf, setDelivery, setHandoff   *sql.Stmt

	leaseOf, setLease, unlease, leasable *sql.Stmt

	countMessagesOf, deleteMessagesOf, deleteConversationsOf, deleteSubject *sql.Stmt
	deleteMessage, setContent                                               *sql.Stmt
}

func prepareWrites(ctx context.Context, conn *sql.Conn) (*wtx, error) {
	tx := &wtx{conn: conn}
	w := &tx.stmts
	err := prepare(ctx, conn.PrepareContext, []stmtDef{
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		{&w.totalChanges, `SELECT total_changes()`},

		{&w.message, qMessage},
		{&w.conversation, qConversation},
		{&w.conversationAt, `SELECT c.id, c.subject, c.channel, c.tenant, c.user_id, c.created_at, c.last_inbound_at,
			c.handoff_owner, c.handoff_operator, c.handoff_reason, c.handoff_since, s.profile
			FROM conversations c JOIN subjects s ON s.id = c.subject
			WHERE c.channel = ?1 AND c.tenant = ?2 AND c.user_id = ?3`},
		{&w.subject, `SELECT 1 FROM subjects WHERE id = ?1 AND tenant = ?2`},
		{&w.inboundByKey, `SELECT ` + messageColumns + ` FROM messages WHERE channel = ?1 AND tenant = ?2 AND provider_id = ?3 AND role = 'user'`},
		{&w.outboundByProvider, `SELECT ` + messageColumns + ` FROM messages WHERE tenant = ?1 AND provider_id = ?2 AND role <> 'user' ORDER BY id LIMIT 1`},

		{&w.insertSubject, `INSERT INTO subjects (channel, tenant, user_id, phone, profile, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`},
		{&w.insertConversation, `INSERT INTO conversations (subject, channel, tenant, user_id, created_at, last_inbound_at, handoff_since)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`},
		// The new id is computed rather than left to SQLite, so that a
		// record without a turn gets its own id as its turn in one
		// statement. The writer holds the write lock, and sqlite_sequence
		// holds the largest id ever given.
		//
		// The inserts have no RETURNING clause and no SELECT: either makes
		// SQLite keep a statement journal, a copy of every page the insert
		// changes, which cost more than the rest of an append. The new id
		// is the connection's last insert row id.
		{&w.insertMessage, `INSERT INTO messages (id, conversation, tenant, channel, provider_id, turn, role, time,
			process_state, process_attempts, process_reason, process_updated_at,
			delivery_state, delivery_attempts, delivery_error_code, delivery_error_title, delivery_updated_at,
			content_removed, has_media, inbound, parts, outbound)
			VALUES (` + nextMessageID + `, ?1, ?2, ?3, ?4, iif(?5 = 0, ` + nextMessageID + `, ?5), ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)`},
		{&w.updateProfile, `UPDATE subjects SET phone = ?2, profile = ?3, updated_at = ?4 WHERE id = ?1`},
		{&w.updateLastInbound, `UPDATE conversations SET last_inbound_at = ?2 WHERE id = ?1`},
		{&w.setProcessing, `UPDATE messages SET process_state = ?3, process_attempts = ?4, process_reason = ?5, process_updated_at = ?6
			WHERE id = ?1 AND tenant = ?2 AND role = 'user'`},
		{&w.roleOf, `SELECT role FROM messages WHERE id = ?1 AND tenant = ?2`},
		{&w.setDelivery, `UPDATE messages SET provider_id = ?2, delivery_state = ?3, delivery_attempts = ?4,
			delivery_error_code = ?5, delivery_error_title = ?6, delivery_updated_at = ?7 WHERE id = ?1`},
		{&w.setHandoff, `UPDATE conversations SET handoff_owner = ?3, handoff_operator = ?4, handoff_reason = ?5, handoff_since = ?6
			WHERE id = ?1 AND tenant = ?2 RETURNING ` + conversationColumns},

		{&w.leaseOf, `SELECT lease_owner, lease_until FROM conversations WHERE id = ?1 AND tenant = ?2`},
		{&w.setLease, `UPDATE conversations SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1`},
		{&w.unlease, `UPDATE conversations SET lease_owner = '', lease_until = 0 WHERE id = ?1 AND tenant = ?2 AND lease_owner = ?3`},
		{&w.leasable, `SELECT c.id, c.tenant
			FROM (SELECT conversation, min(id) AS first FROM messages
				WHERE role = 'user' AND process_state = 0 GROUP BY conversation) AS p
			JOIN conversations c ON c.id = p.conversation
			WHERE c.lease_owner = ?1 OR c.lease_until <= ?2
			ORDER BY p.first LIMIT ?3 + 0`},

		{&w.countMessagesOf, `SELECT count(*) FROM messages WHERE conversation IN (SELECT id FROM conversations WHERE subject = ?1)`},
		{&w.deleteMessagesOf, `DELETE FROM messages WHERE conversation IN (SELECT id FROM conversations WHERE subject = ?1)`},
		{&w.deleteConversationsOf, `DELETE FROM conversations WHERE subject = ?1`},
		{&w.deleteSubject, `DELETE FROM subjects WHERE id = ?1`},
		{&w.deleteMessage, `DELETE FROM messages WHERE id = ?1`},
		{&w.setContent, `UPDATE messages SET content_removed = max(content_removed, ?2), has_media = ?3, inbound = ?4, parts = ?5, outbound = ?6 WHERE id = ?1`},
	})
	return tx, err
}

func (tx *wtx) close() error {
	w := &tx.stmts
	err := closeStmts(w.begin, w.commit, w.rollback, w.totalChanges,
		w.message, w.conversation, w.conversationAt, w.subject, w.inboundByKey, w.outboundByProvider,
		w.insertSubject, w.insertConversation, w.insertMessage, w.updateProfile, w.updateLastInbound,
		w.setProcessing, w.roleOf, w.setDelivery, w.setHandoff,
		w.leaseOf, w.setLease, w.unlease, w.leasable,
		w.countMessagesOf, w.deleteMessagesOf, w.deleteConversationsOf, w.deleteSubject, w.deleteMessage, w.setContent)
	return errors.Join(err, tx.conn.Close())
}

type stmtDef struct {
	stmt **sql.Stmt
	sql  string
}

func prepare(ctx context.Context, prep func(context.Context, string) (*sql.Stmt, error), defs []stmtDef) error {
	for _, d := range defs {
		st, err := prep(ctx, d.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*d.stmt = st
	}
	return nil
}

func closeStmts(stmts ...*sql.Stmt) error {
	var errs []error
	for _, st := range stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// nextMessageID is the id the next record gets, computed in the insert
// that adds it (see insertMessage).
const nextMessageID = `(SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0) + 1)`
