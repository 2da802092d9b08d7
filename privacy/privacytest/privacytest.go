package privacytest

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
)

// Storage keeps every record of the privacy engine, as the SQL stores do.
type Storage interface {
	privacy.LedgerStorage
	privacy.AuditStorage
	privacy.HoldStorage
	privacy.RequestStorage
}

// Run checks the storage that newStorage returns against every clause of
// the four storage interfaces, as [RunLedger], [RunAudit], [RunHolds] and
// [RunRequests] do, each clause in its own subtest on a fresh storage.
func Run(t *testing.T, newStorage func(t *testing.T) Storage) {
	t.Helper()
	t.Run("LedgerStorage", func(t *testing.T) {
		RunLedger(t, func(t *testing.T) privacy.LedgerStorage { return newStorage(t) })
	})
	t.Run("AuditStorage", func(t *testing.T) {
		RunAudit(t, func(t *testing.T) privacy.AuditStorage { return newStorage(t) })
	})
	t.Run("HoldStorage", func(t *testing.T) {
		RunHolds(t, func(t *testing.T) privacy.HoldStorage { return newStorage(t) })
	})
	t.Run("RequestStorage", func(t *testing.T) {
		RunRequests(t, func(t *testing.T) privacy.RequestStorage { return newStorage(t) })
	})
}

// clause is one rule of a contract and the test that checks it, for a
// storage of type S.
type clause[S any] struct {
	name string
	test func(t *testing.T, newStorage func(t *testing.T) S)
}

// group holds the clauses about one method or one property.
type group[S any] struct {
	name    string
	clauses []clause[S]
}

// runGroups runs every clause of groups on fresh storages from newStorage.
func runGroups[S any](t *testing.T, newStorage func(t *testing.T) S, groups []group[S]) {
	t.Helper()
	fresh := func(t *testing.T) S {
		t.Helper()
		s := newStorage(t)
		require.NotNil(t, any(s), "newStorage returns a storage")
		return s
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.clauses {
				t.Run(c.name, func(t *testing.T) { c.test(t, fresh) })
			}
		})
	}
}

// The tenants the suite writes for.
const (
	tenantA channel.TenantID = "tienda-sol"
	tenantB channel.TenantID = "ferreteria-luna"
)

// base is the suite's first time: UTC, whole microseconds.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// at returns the time n minutes after base.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }

// digest returns a made-up hash, different for each list of numbers.
func digest(label string, ns ...uint64) privacy.Hash {
	h := sha256.New()
	h.Write([]byte(label))
	for _, n := range ns {
		h.Write(binary.BigEndian.AppendUint64(nil, n))
	}
	var out privacy.Hash
	copy(out[:], h.Sum(nil))
	return out
}

// salt returns 16 made-up bytes.
func salt(label string, n uint64) []byte {
	d := digest("salt."+label, n)
	return d[:16]
}

// utc returns t in UTC, the zero time zero, for comparing times whose
// location a storage may change.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
