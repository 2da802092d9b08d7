package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wagent/wagent/store"
)

var (
	_ store.ConversationStore = (*Store)(nil)
	_ store.Purger            = (*Store)(nil)
	_ store.Eraser            = (*Store)(nil)
	_ store.Exporter          = (*Store)(nil)
	_ store.Leaser            = (*Store)(nil)
	_ store.ProcessingBatcher = (*Store)(nil)
)

// DefaultSchema is the schema of a Store whose Options leave Schema empty.
const DefaultSchema = "wagent"

// Options configures a [Store]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables,
	// created when missing; [DefaultSchema] when empty. Stores with
	// different schemas share a database without seeing each other's data;
	// instances of one application use the same schema.
	Schema string
	// MaxConns caps the connection pool. Zero keeps the DSN's
	// pool_max_conns, or pgxpool's default (the greater of 4 and the
	// number of CPUs).
	MaxConns int32
	// Now returns the current time, for the times the store assigns and
	// for lease expiry. Nil means [time.Now]. It is called from many
	// goroutines at once.
	Now func() time.Time
}

// Store is a [store.ConversationStore] kept in PostgreSQL, shared safely by
// several processes ("instances") that open the same database and schema.
// It also implements [store.Purger], [store.Eraser], [store.Exporter] and
// [store.Leaser]. The zero value is not usable; call [Open]. A Store is safe
// for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	schema string // quoted identifier
	now    func() time.Time
	closed atomic.Bool

	// The queue of AppendInbound calls waiting for a batch (see commit.go).
	mu      sync.Mutex
	queue   []*inbound
	leading bool // a call is leading a batch

	// queries maps the SQL written with the "wagent." prefix to the SQL
	// of the configured schema.
	queries sync.Map
	repl    *strings.Replacer
}

// Open connects to the PostgreSQL database named by dsn (a URL such as
// postgres://user@host:5432/db?sslmode=disable, or key=value pairs; see
// pgxpool.ParseConfig), applies the store's migrations to the schema of
// opts and returns the store. ctx bounds connecting and migrating, not the
// store's life. Close the store when done.
//
// Migrations are embedded in the package, numbered, and only ever added:
// each runs once, in order, inside one transaction that holds a
// transaction-level advisory lock, so that instances opening the store at
// once wait for each other and the schema is migrated exactly once. A
// database already migrated by a newer version of this package is used as
// it is.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if len(o.Schema) > 63 || strings.IndexByte(o.Schema, 0) >= 0 {
		return nil, fmt.Errorf("postgres: open: schema name longer than 63 bytes or with a NUL byte: %w", store.ErrInvalid)
	}
	if o.MaxConns < 0 {
		return nil, fmt.Errorf("postgres: open: negative MaxConns: %w", store.ErrInvalid)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	ident := pgx.Identifier{o.Schema}.Sanitize()
	s := &Store{
		pool:   pool,
		schema: ident,
		now:    o.Now,
		repl:   strings.NewReplacer("wagent.", ident+"."),
	}
	if err := s.migrate(ctx, o.Schema); err != nil {
		pool.Close()
		return nil, s.fail(ctx, "open", err)
	}
	return s, nil
}

// Close closes the store's connections, waiting for calls in progress to
// return them. Afterwards every method returns an error wrapping
// [store.ErrClosed]. Close is idempotent and always returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// sql returns q, written with the "wagent." schema prefix, for the store's
// schema.
func (s *Store) sql(q string) string {
	if v, ok := s.queries.Load(q); ok {
		return v.(string)
	}
	v := s.repl.Replace(q)
	s.queries.Store(q, v)
	return v
}

// clock returns the current time as the database keeps it: whole
// microseconds, without a monotonic clock reading, in UTC.
func (s *Store) clock() time.Time { return micro(s.now()) }

// micro returns t as a timestamptz column keeps it.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).Truncate(time.Microsecond).UTC()
}

// ts returns t as a nullable timestamptz argument: NULL for the zero time.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// timeOf returns the time of a nullable timestamptz column, zero for NULL.
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// start checks that a call may go ahead.
func (s *Store) start(ctx context.Context, op string) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return nil
}

// fail turns err, returned by pgx during op, into the store's error:
// wrapping [store.ErrClosed] after Close, [store.ErrNotFound] for no rows,
// the context's error when ctx is done, and otherwise a [dbError] that
// keeps no values from the statement.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("postgres: %s: %w", op, store.ErrClosed)
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("postgres: %s: %w", op, errors.Join(ctx.Err(), redact(err)))
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, redact(err))
}

// redact returns err with the server's message dropped when it may quote a
// value of the statement.
func redact(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	return &dbError{pe: pe}
}

// dbError is an error reported by the PostgreSQL server. Its text holds the
// SQLSTATE code, the constraint, table and column names and, unless the
// error is a data exception (class 22, whose messages may quote the
// offending value), the server's message; never the statement's arguments.
// Unwrap returns the *pgconn.PgError, whose Detail may hold values.
type dbError struct{ pe *pgconn.PgError }

func (e *dbError) Error() string {
	var b strings.Builder
	b.WriteString("server error ")
	b.WriteString(e.pe.Code)
	if !strings.HasPrefix(e.pe.Code, "22") {
		b.WriteString(": ")
		b.WriteString(e.pe.Message)
	}
	for _, kv := range [...][2]string{{"table", e.pe.TableName}, {"column", e.pe.ColumnName}, {"constraint", e.pe.ConstraintName}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " (%s %s)", kv[0], kv[1])
		}
	}
	return b.String()
}

func (e *dbError) Unwrap() error { return e.pe }

// errRollback makes inTx roll back and return nil.
var errRollback = errors.New("postgres: roll back")

// inTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		// The rollback must reach the server even when ctx is done.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
		if errors.Is(err, errRollback) {
			return nil
		}
		return err
	}
	return tx.Commit(ctx)
}

// Conversation and subject ids are the tables' bigint ids with a prefix,
// so that one kind is never taken for the other.

func conversationID(id int64) store.ConversationID {
	return store.ConversationID("c" + strconv.FormatInt(id, 10))
}

func subjectID(id int64) store.SubjectID { return store.SubjectID("s" + strconv.FormatInt(id, 10)) }

// parseID returns the number of an id made by conversationID or subjectID,
// and false when id is not one.
func parseID(prefix byte, id string) (int64, bool) {
	if len(id) < 2 || id[0] != prefix || id[1] == '0' || id[1] == '+' || id[1] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(id[1:], 10, 64)
	return n, err == nil && n > 0
}
