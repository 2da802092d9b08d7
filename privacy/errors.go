package privacy

import (
	"errors"
	"fmt"

	"github.com/wagent/wagent/channel"
)

// More sentinel errors, of the engine built on the contracts.
var (
	// ErrTampered: a hash chain (the consent ledger, the audit log) does
	// not verify: a record was edited, deleted, reordered or forged. The
	// error is a [*TamperError] that says where.
	ErrTampered = errors.New("privacy: tampered")
	// ErrConflict: another writer changed the record first (a storage
	// appended the same sequence number, a request was updated
	// concurrently). Callers retry with fresh state.
	ErrConflict = errors.New("privacy: conflict")
	// ErrVerification: an identity verification code was wrong, expired
	// or out of attempts.
	ErrVerification = errors.New("privacy: verification failed")
	// ErrCodeExpired: the verification code entered was valid for a time
	// that has passed; a new one must be sent. It wraps [ErrVerification].
	ErrCodeExpired = fmt.Errorf("privacy: verification code expired: %w", ErrVerification)
	// ErrUnsupported: the configured store lacks the capability a request
	// needs ([store.Exporter], [store.Eraser]) or no handler is configured
	// for it (rectification).
	ErrUnsupported = errors.New("privacy: unsupported")
)

// TamperError reports the first entry of a hash chain that does not
// verify. It unwraps to [ErrTampered].
type TamperError struct {
	// Chain is "consent" or "audit".
	Chain  string
	Tenant channel.TenantID
	// Seq is the sequence number of the first bad entry: the edited one,
	// the first missing one, or the first out of place.
	Seq uint64
	// Reason says what was found, without the entry's content.
	Reason string
}

// Error implements error.
func (e *TamperError) Error() string {
	return fmt.Sprintf("privacy: %s chain of tenant %q tampered at entry %d: %s", e.Chain, e.Tenant, e.Seq, e.Reason)
}

// Unwrap returns [ErrTampered].
func (e *TamperError) Unwrap() error { return ErrTampered }
