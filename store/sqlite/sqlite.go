package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

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

// Defaults of [Options].
const (
	// DefaultBusyTimeout is how long a connection waits for a lock held by
	// another connection (another process) before failing.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultReadConnections is the size of the read pool when
	// GOMAXPROCS is smaller.
	DefaultReadConnections = 4
)

// Options configures a [Store]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// Now returns the current time, for the times the store assigns (a
	// record's Time left zero, creation and update times) and for leases.
	// Nil means [time.Now]. It is called from many goroutines at once.
	Now func() time.Time
	// BusyTimeout is how long a call waits for a lock held by another
	// process using the same file; zero means [DefaultBusyTimeout].
	BusyTimeout time.Duration
	// ReadConnections is the most connections reading at once; zero means
	// GOMAXPROCS or [DefaultReadConnections], whichever is larger.
	ReadConnections int
}

// Store is a [store.ConversationStore] kept in one SQLite database file. It
// also implements [store.Purger], [store.Eraser], [store.Exporter] and
// [store.Leaser]. Open it with [Open]; the zero value is not usable. A
// Store is safe for concurrent use, and several processes may open the same
// file.
type Store struct {
	now func() time.Time
	dsn string // of a connection that may write

	// One connection writes, in batches (see write); a pool reads.
	wdb  *sql.DB
	tx   *wtx
	rdb  *sql.DB
	read *readStmts

	closed atomic.Bool

	mu           sync.Mutex
	queue        []*write
	leading      bool // a leader is committing a batch
	writesClosed bool
	idle         sync.Cond // signalled when leading turns false
}

var errClosed = fmt.Errorf("sqlite: %w", store.ErrClosed)

// Open opens the database file at path, creating it when it does not
// exist, and brings its schema up to date. ctx bounds the opening and the
// migrations, not the life of the store. opts may be nil.
//
// Migrations are embedded, numbered, and only ever applied forward, each
// set in one transaction: opening a file twice, or from two processes at
// once, applies each migration once. A file whose schema is newer than this
// package's is not opened.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: open: empty path: %w", store.ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.ReadConnections <= 0 {
		o.ReadConnections = max(runtime.GOMAXPROCS(0), DefaultReadConnections)
	}
	s := &Store{now: o.Now}
	s.idle.L = &s.mu
	if err := s.open(ctx, path, o); err != nil {
		s.closeDBs()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, path string, o Options) error {
	busy := strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)
	name := "file:" + (&url.URL{Path: path}).EscapedPath()
	common := "_pragma=busy_timeout(" + busy + ")&_pragma=foreign_keys(1)&_pragma=secure_delete(1)"

	// The writer: WAL, and a sync at every commit, so that a write
	// acknowledged survives a power loss. BEGIN IMMEDIATE takes the write
	// lock at once, so that a batch never fails half way for a lock.
	s.dsn = name + "?" + common + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	wdb, err := sql.Open("sqlite", s.dsn)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	s.wdb = wdb
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	conn, err := wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		return err
	}
	s.tx, err = prepareWrites(ctx, conn)
	if err != nil {
		return err
	}

	rdb, err := sql.Open("sqlite", name+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	s.rdb = rdb
	rdb.SetMaxOpenConns(o.ReadConnections)
	rdb.SetMaxIdleConns(o.ReadConnections)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)
	s.read, err = prepareReads(ctx, rdb)
	return err
}

// Close waits for the writes in progress, then closes the database.
// Afterwards every method returns an error wrapping [store.ErrClosed].
// Close is idempotent.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.mu.Lock()
	if s.writesClosed {
		s.mu.Unlock()
		return nil
	}
	s.writesClosed = true
	for s.leading {
		s.idle.Wait()
	}
	s.mu.Unlock()
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.tx != nil {
		errs = append(errs, s.tx.close())
	}
	if s.read != nil {
		errs = append(errs, s.read.close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Checkpoint copies every change from the write-ahead log into the
// database file and truncates the log, waiting for readers as long as the
// busy timeout allows. Deleted and purged content is overwritten in the
// database file as it is deleted (secure_delete); until a checkpoint it may
// remain in the log. Run Checkpoint after an erasure or a purge to make
// sure the old content is gone from disk.
//
// It uses a connection of its own, so that writes go on meanwhile.
func (s *Store) Checkpoint(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	if s.closed.Load() {
		return errClosed
	}
	db, err := sql.Open("sqlite", s.dsn)
	if err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	defer db.Close()
	var busy, log, done int64
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
		return s.failed("checkpoint", err)
	}
	if busy != 0 {
		return fmt.Errorf("sqlite: checkpoint: the log is in use by other connections")
	}
	return nil
}

// clock returns the current time in UTC to the microsecond, as the store
// keeps it.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// failed wraps err, an error of the operation op, for the caller: nil stays
// nil, context errors and the store's sentinels are kept, sql.ErrNoRows is
// [store.ErrNotFound], and the errors of a closed database are
// [store.ErrClosed].
func (s *Store) failed(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrClosed):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	case s.closed.Load() || errors.Is(err, sql.ErrConnDone):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrClosed)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
