package privacy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Sentinel errors.
var (
	// ErrNoConsent: the subject has not consented to the purpose, or
	// withdrew consent.
	ErrNoConsent = errors.New("privacy: no consent")
	// ErrRestricted: the subject objected to or restricted processing.
	ErrRestricted = errors.New("privacy: processing restricted")
	// ErrLegalHold: the data is under a legal hold and may not be deleted.
	ErrLegalHold = errors.New("privacy: legal hold")
)

// Purpose is what personal data is processed for. Consent and objection are
// recorded per purpose.
type Purpose string

// Purposes the agent checks.
const (
	// PurposeAssistant is answering the subject's messages with the AI
	// assistant. The subject started the conversation, so it needs no opt-in;
	// an objection or restriction is recorded as its withdrawal, after which
	// the agent stops processing the subject's messages with AI.
	PurposeAssistant Purpose = "assistant"
	// PurposeMarketing is sending marketing messages (templates). It needs
	// an explicit grant.
	PurposeMarketing Purpose = "marketing"
)

// Basis is the legal basis of a processing purpose.
type Basis string

// Legal bases (GDPR Art. 6).
const (
	BasisConsent            Basis = "consent"
	BasisContract           Basis = "contract"
	BasisLegitimateInterest Basis = "legitimate_interest"
	BasisLegalObligation    Basis = "legal_obligation"
)

// ConsentRecord is one entry of the consent ledger: a grant or a withdrawal.
type ConsentRecord struct {
	Tenant  channel.TenantID `json:"tenant"`
	Subject store.SubjectID  `json:"subject"`
	Purpose Purpose          `json:"purpose"`
	// Granted is true for a grant, false for a withdrawal or objection.
	Granted bool  `json:"granted"`
	Basis   Basis `json:"basis,omitempty"`
	// Method is how the decision was expressed: "chat_keyword", "widget",
	// "admin", "api".
	Method string `json:"method"`
	// Evidence is the message that gave or withdrew consent, when it came
	// through a channel.
	Evidence Evidence `json:"evidence,omitzero"`
	// PolicyVersion is the version of the privacy notice the subject saw.
	PolicyVersion string    `json:"policy_version,omitempty"`
	Time          time.Time `json:"time"`
}

// Evidence ties a consent decision to the message that expressed it.
type Evidence struct {
	Channel   channel.Name      `json:"channel,omitempty"`
	MessageID channel.MessageID `json:"message_id,omitempty"`
	Text      channel.Text      `json:"text,omitempty"`
}

// ConsentStatus is the current decision for a purpose.
type ConsentStatus uint8

// Consent statuses. Unknown means no record exists.
const (
	ConsentUnknown ConsentStatus = iota
	ConsentGranted
	ConsentWithdrawn
)

// ConsentState is the current consent of a subject for a purpose, derived
// from the ledger's history: the latest record decides.
type ConsentState struct {
	Purpose       Purpose       `json:"purpose"`
	Status        ConsentStatus `json:"status"`
	Basis         Basis         `json:"basis,omitempty"`
	PolicyVersion string        `json:"policy_version,omitempty"`
	// Since is the time of the deciding record; zero when Unknown.
	Since time.Time `json:"since,omitzero"`
}

// ConsentLedger records consent decisions and answers what a subject has
// currently agreed to. It is append-only: a decision is changed by
// recording a new one, and the history is never rewritten.
//
// Implementations are safe for concurrent use; ctx bounds each call.
type ConsentLedger interface {
	// Record appends r. It returns an error wrapping [store.ErrInvalid]
	// when the tenant, subject or purpose is empty.
	Record(ctx context.Context, r ConsentRecord) error
	// State derives the subject's current consent for purpose from its
	// history. A subject with no records has status ConsentUnknown.
	State(ctx context.Context, tenant channel.TenantID, subject store.SubjectID, purpose Purpose) (ConsentState, error)
	// History returns every record of the subject, oldest first.
	History(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]ConsentRecord, error)
}

// DataClass is a category of personal data with its own retention.
type DataClass string

// Data classes.
const (
	ClassContent  DataClass = "content"  // message text and captions
	ClassMedia    DataClass = "media"    // media references and files
	ClassMetadata DataClass = "metadata" // ids, timestamps, delivery and processing states
	ClassLogs     DataClass = "logs"     // system and diagnostic logs
	ClassTickets  DataClass = "tickets"  // support cases
	ClassConsent  DataClass = "consent"  // consent ledger records
	ClassAudit    DataClass = "audit"    // the privacy audit log
	ClassRequests DataClass = "requests" // data-subject requests once answered
)

// Action is what happens to data at the end of its retention.
type Action string

// Retention actions.
const (
	ActionDelete    Action = "delete"
	ActionAnonymize Action = "anonymize"
)

// Rule is the retention of one data class.
type Rule struct {
	// Keep is how long data is kept after it was recorded; zero keeps it
	// until it is erased on request.
	Keep   time.Duration `json:"keep"`
	Action Action        `json:"action"`
}

// Scope is where a retention rule applies. The most specific rule wins:
// tenant over channel over the class default.
type Scope struct {
	Tenant  channel.TenantID `json:"tenant,omitempty"`
	Channel channel.Name     `json:"channel,omitempty"`
}

// RetentionPolicy says how long each class of data is kept.
//
// Rule is a lookup in configuration: it must not block, and implementations
// are safe for concurrent use.
type RetentionPolicy interface {
	// Rule returns the rule for class within scope.
	Rule(scope Scope, class DataClass) Rule
}

var consentStatusNames = [...]string{"unknown", "granted", "withdrawn"}

// String returns "unknown", "granted" or "withdrawn".
func (s ConsentStatus) String() string {
	if int(s) < len(consentStatusNames) {
		return consentStatusNames[s]
	}
	return "ConsentStatus(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText implements [encoding.TextMarshaler].
func (s ConsentStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (s *ConsentStatus) UnmarshalText(b []byte) error {
	for i, n := range consentStatusNames {
		if n == string(b) {
			*s = ConsentStatus(i)
			return nil
		}
	}
	return fmt.Errorf("privacy: unknown consent status %q", b)
}
