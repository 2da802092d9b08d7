package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/testfill"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

func TestDeliveryMerge(t *testing.T) {
	t0 := time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	t1 := t0.Add(time.Second)
	tests := []struct {
		name        string
		d           store.Delivery
		u           store.DeliveryUpdate
		want        store.Delivery
		wantChanged bool
	}{
		// Sent < Delivered < Read < Played: a state only replaces a lower one.
		{"pending to sent", store.Delivery{}, store.DeliveryUpdate{State: channel.Sent},
			store.Delivery{State: channel.Sent}, true},
		{"sent to delivered", store.Delivery{State: channel.Sent}, store.DeliveryUpdate{State: channel.Delivered},
			store.Delivery{State: channel.Delivered}, true},
		{"delivered to read", store.Delivery{State: channel.Delivered}, store.DeliveryUpdate{State: channel.Read},
			store.Delivery{State: channel.Read}, true},
		{"read to played", store.Delivery{State: channel.Read}, store.DeliveryUpdate{State: channel.Played},
			store.Delivery{State: channel.Played}, true},
		{"sent skips to read", store.Delivery{State: channel.Sent}, store.DeliveryUpdate{State: channel.Read},
			store.Delivery{State: channel.Read}, true},
		{"delivered after read stays read", store.Delivery{State: channel.Read}, store.DeliveryUpdate{State: channel.Delivered},
			store.Delivery{State: channel.Read}, false},
		{"sent after delivered stays delivered", store.Delivery{State: channel.Delivered}, store.DeliveryUpdate{State: channel.Sent},
			store.Delivery{State: channel.Delivered}, false},
		{"read after played stays played", store.Delivery{State: channel.Played}, store.DeliveryUpdate{State: channel.Read},
			store.Delivery{State: channel.Played}, false},
		{"same state twice", store.Delivery{State: channel.Delivered}, store.DeliveryUpdate{State: channel.Delivered},
			store.Delivery{State: channel.Delivered}, false},

		// Failed replaces Pending and Sent only.
		{"failed after pending", store.Delivery{}, store.DeliveryUpdate{State: channel.Failed},
			store.Delivery{State: channel.Failed}, true},
		{"failed after sent", store.Delivery{State: channel.Sent}, store.DeliveryUpdate{State: channel.Failed},
			store.Delivery{State: channel.Failed}, true},
		{"failed after delivered stays delivered", store.Delivery{State: channel.Delivered}, store.DeliveryUpdate{State: channel.Failed},
			store.Delivery{State: channel.Delivered}, false},
		{"failed after read stays read", store.Delivery{State: channel.Read}, store.DeliveryUpdate{State: channel.Failed},
			store.Delivery{State: channel.Read}, false},
		{"failed after played stays played", store.Delivery{State: channel.Played}, store.DeliveryUpdate{State: channel.Failed},
			store.Delivery{State: channel.Played}, false},
		{"failed twice", store.Delivery{State: channel.Failed}, store.DeliveryUpdate{State: channel.Failed},
			store.Delivery{State: channel.Failed}, false},

		// A later Delivered, Read or Played replaces Failed.
		{"delivered after failed", store.Delivery{State: channel.Failed}, store.DeliveryUpdate{State: channel.Delivered},
			store.Delivery{State: channel.Delivered}, true},
		{"read after failed", store.Delivery{State: channel.Failed}, store.DeliveryUpdate{State: channel.Read},
			store.Delivery{State: channel.Read}, true},
		{"played after failed", store.Delivery{State: channel.Failed}, store.DeliveryUpdate{State: channel.Played},
			store.Delivery{State: channel.Played}, true},
		{"sent after failed stays failed", store.Delivery{State: channel.Failed}, store.DeliveryUpdate{State: channel.Sent},
			store.Delivery{State: channel.Failed}, false},

		// Pending in an update changes no state; it records attempts and errors.
		{"pending keeps sent", store.Delivery{State: channel.Sent}, store.DeliveryUpdate{State: channel.Pending},
			store.Delivery{State: channel.Sent}, false},
		{"pending keeps failed", store.Delivery{State: channel.Failed}, store.DeliveryUpdate{State: channel.Pending},
			store.Delivery{State: channel.Failed}, false},
		{"pending records attempts and error", store.Delivery{State: channel.Sent, Attempts: 1},
			store.DeliveryUpdate{State: channel.Pending, Attempts: 2, ErrorCode: 131000, ErrorTitle: "Something went wrong"},
			store.Delivery{State: channel.Sent, Attempts: 2, ErrorCode: 131000, ErrorTitle: "Something went wrong"}, true},

		// Attempts only grow; a non-zero error code replaces the last one.
		{"attempts grow", store.Delivery{State: channel.Sent, Attempts: 1}, store.DeliveryUpdate{State: channel.Sent, Attempts: 3},
			store.Delivery{State: channel.Sent, Attempts: 3}, true},
		{"attempts never shrink", store.Delivery{State: channel.Sent, Attempts: 3}, store.DeliveryUpdate{State: channel.Delivered, Attempts: 1},
			store.Delivery{State: channel.Delivered, Attempts: 3}, true},
		{"error code replaces the last", store.Delivery{State: channel.Failed, ErrorCode: 131026, ErrorTitle: "Message undeliverable"},
			store.DeliveryUpdate{State: channel.Failed, ErrorCode: 131047, ErrorTitle: "Re-engagement message"},
			store.Delivery{State: channel.Failed, ErrorCode: 131047, ErrorTitle: "Re-engagement message"}, true},
		{"zero error code keeps the last", store.Delivery{State: channel.Failed, ErrorCode: 131026, ErrorTitle: "Message undeliverable"},
			store.DeliveryUpdate{State: channel.Delivered, ErrorTitle: "ignored"},
			store.Delivery{State: channel.Delivered, ErrorCode: 131026, ErrorTitle: "Message undeliverable"}, true},
		{"error kept when the state stays", store.Delivery{State: channel.Delivered}, store.DeliveryUpdate{State: channel.Failed, ErrorCode: 131026, ErrorTitle: "Message undeliverable"},
			store.Delivery{State: channel.Delivered, ErrorCode: 131026, ErrorTitle: "Message undeliverable"}, true},

		// UpdatedAt is the latest time seen.
		{"later time", store.Delivery{State: channel.Sent, UpdatedAt: t0}, store.DeliveryUpdate{State: channel.Delivered, Time: t1},
			store.Delivery{State: channel.Delivered, UpdatedAt: t1}, true},
		{"earlier time keeps the latest", store.Delivery{State: channel.Delivered, UpdatedAt: t1}, store.DeliveryUpdate{State: channel.Read, Time: t0},
			store.Delivery{State: channel.Read, UpdatedAt: t1}, true},
		{"zero time keeps the latest", store.Delivery{State: channel.Delivered, UpdatedAt: t1}, store.DeliveryUpdate{State: channel.Read},
			store.Delivery{State: channel.Read, UpdatedAt: t1}, true},
		{"only a later time changes a stale update", store.Delivery{State: channel.Read, UpdatedAt: t0}, store.DeliveryUpdate{State: channel.Delivered, Time: t1},
			store.Delivery{State: channel.Read, UpdatedAt: t1}, true},
		{"duplicate update changes nothing", store.Delivery{State: channel.Read, Attempts: 1, UpdatedAt: t1}, store.DeliveryUpdate{State: channel.Read, Attempts: 1, Time: t1},
			store.Delivery{State: channel.Read, Attempts: 1, UpdatedAt: t1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.d
			got, changed := tt.d.Merge(tt.u)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantChanged, changed, "changed reports whether the result differs")
			assert.Equal(t, before, tt.d, "Merge returns a new value and leaves the receiver alone")
		})
	}
}

func TestMessageCloneIsDeep(t *testing.T) {
	testfill.DeepClone(t, func(m *store.Message) *store.Message { c := m.Clone(); return &c })
}

func TestWithoutContent(t *testing.T) {
	in := &channel.Message{
		ID: "wamid.1", From: channel.Address{Channel: channel.WhatsApp, Tenant: "t", User: "51987654321"},
		Time: time.Unix(1, 0), Type: channel.TypeImage, Text: "caption", Media: &channel.Media{Kind: channel.Image, ID: "m1"},
		Sender: channel.Profile{Name: "Rosa"}, Raw: []byte(`{}`), Errors: []channel.ErrorInfo{{Code: 131051}},
	}
	m := store.Message{
		ID: 7, Tenant: "t", Conversation: "c1", Turn: 7, Role: store.User, Time: time.Unix(2, 0), ProviderID: "wamid.1",
		Inbound: in, Parts: []llm.Part{llm.TextPart("x")},
		Outbound:   &channel.Outbound{To: in.From, Text: "reply", Correlation: "wagent:8"},
		Processing: store.Processing{State: store.ProcessDone, Attempts: 1},
		Delivery:   store.Delivery{State: channel.Read, ErrorCode: 0},
	}
	got := m.WithoutContent()
	assert.True(t, got.ContentRemoved)
	assert.Equal(t, &channel.Message{ID: in.ID, From: in.From, Time: in.Time, Type: in.Type, Errors: in.Errors}, got.Inbound)
	assert.Nil(t, got.Parts)
	assert.Equal(t, &channel.Outbound{To: in.From, Correlation: "wagent:8"}, got.Outbound)
	assert.Equal(t, m.Processing, got.Processing)
	assert.Equal(t, m.Delivery, got.Delivery)
	assert.Equal(t, channel.Text("caption"), m.Inbound.Text, "the original is left alone")

	noMedia, removed := m.WithoutMedia()
	assert.True(t, removed)
	assert.Nil(t, noMedia.Inbound.Media)
	assert.Equal(t, channel.Text("caption"), noMedia.Inbound.Text, "only media goes")
	assert.NotNil(t, m.Inbound.Media, "the original is left alone")
	_, removed = noMedia.WithoutMedia()
	assert.False(t, removed)
}

func TestCorrelation(t *testing.T) {
	assert.Equal(t, "wagent:42", store.MessageID(42).Correlation())
	id, ok := store.ParseCorrelation("wagent:42")
	assert.True(t, ok)
	assert.Equal(t, store.MessageID(42), id)
	for _, c := range []string{"", "42", "wagent:", "wagent:x", "wagent:-3", "wagent:0", "host:42"} {
		_, ok := store.ParseCorrelation(c)
		assert.False(t, ok, c)
	}
}
