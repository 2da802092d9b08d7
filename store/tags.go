package store

import (
	"context"
	"fmt"
	"time"

	"github.com/wagent/wagent/channel"
)

// Sentiment is the tone of a customer's message as a classifier read it.
type Sentiment string

// Sentiments. The zero value is unknown.
const (
	SentimentPositive Sentiment = "positive"
	SentimentNeutral  Sentiment = "neutral"
	SentimentNegative Sentiment = "negative"
)

// Tags is what the agent learned about an inbound message: what the
// customer wants (Intent), in what tone, and the values it mentions. The
// extracted fields are personal data of the subject; they are erased with
// the message.
type Tags struct {
	// Intent is one of the agent's configured intents ("order_status",
	// "complaint"...); never empty in a stored value.
	Intent    string    `json:"intent"`
	Sentiment Sentiment `json:"sentiment,omitempty"`
	// The fields extracted from the message; empty when not mentioned.
	OrderNumber string `json:"order_number,omitempty"`
	Product     string `json:"product,omitempty"`
	Email       string `json:"email,omitempty"`
	Date        string `json:"date,omitempty"`
	// Source says what decided the intent: "model" (a classifier call) or
	// "rule" (a keyword, a command, the message type).
	Source string `json:"source,omitempty"`
	// Time is when the tags were recorded; the store sets it when zero.
	Time time.Time `json:"time,omitzero"`
}

// MaxTagValue is the longest value of a field of [Tags], in bytes (a
// sealed value may be as long as [SealedLimit] of it).
const MaxTagValue = 500

// Check returns an error wrapping [ErrInvalid] when t cannot be stored:
// an empty intent, or a field longer than [MaxTagValue].
func (t Tags) Check() error {
	if t.Intent == "" {
		return fmt.Errorf("store: tags: empty intent: %w", ErrInvalid)
	}
	for _, v := range []string{t.Intent, string(t.Sentiment), t.OrderNumber, t.Product, t.Email, t.Date, t.Source} {
		if !within(v, MaxTagValue) {
			return fmt.Errorf("store: tags: value too long: %w", ErrInvalid)
		}
	}
	return nil
}

// Tagger is an optional capability of a [ConversationStore]: it keeps the
// [Tags] of inbound records, durably, beside the record. The agent stores
// the intent and extracted fields of every turn in it when the store has
// it. Like ConversationStore, every method is safe for concurrent use,
// bounded by ctx, scoped by tenant, and returns [ErrClosed] after the store
// is closed. Tags are deleted with their record (erasure, record purges).
type Tagger interface {
	// SetTags replaces the tags of the inbound record id. It returns
	// [ErrInvalid] when t fails [Tags.Check] or the record is not an
	// inbound one, and [ErrNotFound] when the record is not the tenant's.
	SetTags(ctx context.Context, tenant channel.TenantID, id MessageID, t Tags) error
	// Tags returns the tags of the record id; a record without tags, or
	// that is not the tenant's, is [ErrNotFound].
	Tags(ctx context.Context, tenant channel.TenantID, id MessageID) (Tags, error)
}
