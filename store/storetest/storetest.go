package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// Run checks the store that newStore returns against every clause of the
// [store.ConversationStore] contract, each in its own subtest, grouped by
// method, with a fresh store from newStore. A failure quotes the clause
// broken.
func Run(t *testing.T, newStore func(t *testing.T) store.ConversationStore) {
	t.Helper()
	fresh := func(t *testing.T) store.ConversationStore {
		t.Helper()
		s := newStore(t)
		require.NotNil(t, s, "newStore returns a store")
		return s
	}
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.clauses {
				t.Run(c.name, func(t *testing.T) { c.test(t, fresh) })
			}
		})
	}
}

// factory returns a fresh, empty store.
type factory = func(t *testing.T) store.ConversationStore

// clause is one rule of the contract and the test that checks it.
type clause struct {
	name string
	test func(t *testing.T, newStore factory)
}

// group holds the clauses about one method, or one property shared by all.
type group struct {
	name    string
	clauses []clause
}

func groups() []group {
	return []group{
		{"AppendInbound", []clause{
			{"records a new message as a pending user turn", testAppendInboundNew},
			{"creates the conversation and subject of the sender", testAppendInboundCreates},
			{"keeps the received message field for field", testAppendInboundRoundTrip},
			{"returns the earlier record of a duplicate and changes nothing", testAppendInboundDuplicate},
			{"keys duplicates by channel tenant and provider id", testAppendInboundKey},
			{"records one of many concurrent duplicates", testAppendInboundConcurrentDuplicates},
			{"records each of many concurrent messages", testAppendInboundConcurrentMessages},
			{"rejects a message without id or complete sender", testAppendInboundInvalid},
			{"follows the latest message in LastInboundAt and the profile", testAppendInboundFollows},
			{"assigns ids increasing in insertion order", testIDsIncrease},
		}},
		{"Append", []clause{
			{"assigns ID Time and Turn when zero", testAppendAssigns},
			{"keeps a given Turn and Time", testAppendKeeps},
			{"rejects role User and an empty tenant", testAppendInvalid},
			{"reports a conversation not of the tenant as not found", testAppendNotFound},
			{"returns and keeps the record field for field", testAppendRoundTrip},
			{"keeps tool call arguments byte for byte", testAppendToolArgs},
		}},
		{"Message", []clause{
			{"returns the record with the id", testMessage},
			{"reports unknown ids and other tenants' records as not found", testMessageNotFound},
		}},
		{"History", []clause{
			{"orders records by turn then id", testHistoryOrder},
			{"stops at the turn Through", testHistoryThrough},
			{"returns the latest Limit records oldest first", testHistoryLimit},
			{"reports a conversation not of the tenant as not found", testHistoryNotFound},
		}},
		{"Pending", []clause{
			{"returns pending inbound records in id order", testPending},
			{"leaves out records no longer pending", testPendingDone},
			{"filters by tenant conversation and limit", testPendingFilters},
		}},
		{"SetProcessing", []clause{
			{"replaces and keeps the processing state", testSetProcessing},
			{"reports other tenants' and unknown records as not found", testSetProcessingNotFound},
			{"rejects a record that is not inbound", testSetProcessingInvalid},
		}},
		{"UpdateDelivery", []clause{
			{"finds the record by id and gives it the provider id", testUpdateDeliveryByID},
			{"finds the record by provider id", testUpdateDeliveryByProviderID},
			{"reports unknown and other tenants' records as not found", testUpdateDeliveryNotFound},
			{"merges updates with Delivery.Merge", testUpdateDeliveryMerge},
			{"merges concurrent updates without moving backwards", testUpdateDeliveryConcurrent},
		}},
		{"OpenConversation", []clause{
			{"creates the conversation and subject once", testOpenConversation},
			{"creates one conversation under concurrent calls", testOpenConversationConcurrent},
			{"opens the conversation AppendInbound uses", testOpenConversationInbound},
			{"rejects an incomplete address", testOpenConversationInvalid},
		}},
		{"Conversation", []clause{
			{"returns the conversation with the id", testConversation},
			{"reports unknown and other tenants' conversations as not found", testConversationNotFound},
		}},
		{"SetHandoff", []clause{
			{"replaces and keeps the handoff", testSetHandoff},
			{"reports other tenants' conversations as not found", testSetHandoffNotFound},
		}},
		{"Subject", []clause{
			{"finds the subject by its address", testSubject},
			{"finds the subject by profile phone", testSubjectByPhone},
			{"reports subjects of other tenants and channels as not found", testSubjectNotFound},
		}},
		{"Tenants", []clause{
			{"keeps tenants with identical ids apart", testTenantIsolation},
		}},
		{"Context", []clause{
			{"a cancelled call fails and changes nothing", testCancelled},
		}},
		{"Copies", []clause{
			{"keeps no memory of values passed in", testCopiesIn},
			{"shares no memory with values returned", testCopiesOut},
		}},
	}
}

// Fixtures. The tenants share a channel; the users are made-up numbers.
const (
	tenantA channel.TenantID = "tienda-sol"
	tenantB channel.TenantID = "ferreteria-luna"
	userA   channel.UserID   = "51900000001"
	userB   channel.UserID   = "51900000002"
	userC   channel.UserID   = "51900000003"
)

// at returns the suite's n-th second: UTC, whole microseconds, as every
// time the suite gives a store.
func at(n int) time.Time {
	return time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC).Add(time.Duration(n) * time.Second)
}

func addr(tenant channel.TenantID, user channel.UserID) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: user}
}

// text returns a text message from from, sent at second n.
func text(id string, from channel.Address, body string, n int) channel.Message {
	return channel.Message{
		ID:   channel.MessageID(id),
		From: from,
		Time: at(n),
		Type: channel.TypeText,
		Text: channel.Text(body),
	}
}

// quoting returns a text message with a sender profile, a quoted message
// and a referral, so that it holds pointers.
func quoting(id string, from channel.Address, n int) channel.Message {
	m := text(id, from, "¿Tienen la chompa de alpaca en talla M?", n)
	m.Sender = channel.Profile{Name: "Ana Quispe", Phone: "51900000001", Locale: "es_PE"}
	m.Context = &channel.Context{MessageID: "wamid.catalog.1", ProductID: "CH-ALP-M"}
	m.Referral = &channel.Referral{SourceURL: "https://example.com/ad/1", SourceID: "ad-1", SourceType: "ad", Headline: "Chompas"}
	return m
}

// richReply returns an assistant record answering turn in conv, holding
// provider state, a tool call and an interactive outbound message.
func richReply(conv store.Conversation, turn store.MessageID) store.Message {
	return store.Message{
		Tenant:       conv.Address.Tenant,
		Conversation: conv.ID,
		Turn:         turn,
		Role:         store.Assistant,
		Time:         at(30),
		Parts: []llm.Part{
			{Kind: llm.KindReasoning, Text: "Check stock first.", Opaque: llm.Opaque{Provider: "gemini", Data: []byte{0x0a, 0x00, 0xff, 0x7f}}},
			llm.TextPart("Sí, la tenemos."),
			{Kind: llm.KindToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "stock", Args: json.RawMessage(`{"sku":"CH-ALP-M"}`)}},
		},
		Outbound: &channel.Outbound{
			To:   conv.Address,
			Text: "¿Te la reservo?",
			Interactive: &channel.Interactive{
				Header:  "Chompa de alpaca",
				Footer:  "Tienda Sol",
				Buttons: []channel.Button{{ID: "yes", Title: "Sí"}, {ID: "no", Title: "No"}},
			},
			Correlation: "r-1",
		},
	}
}

// reply appends an assistant text reply to the inbound record to.
func reply(t *testing.T, s store.ConversationStore, to store.Message, body string) store.Message {
	t.Helper()
	require.NotNil(t, to.Inbound, "AppendInbound: the record keeps the received message in Inbound")
	m, err := s.Append(t.Context(), store.Message{
		Tenant:       to.Tenant,
		Conversation: to.Conversation,
		Turn:         to.ID,
		Role:         store.Assistant,
		Parts:        []llm.Part{llm.TextPart(body)},
		Outbound:     &channel.Outbound{To: to.Inbound.From, Text: channel.Text(body)},
	})
	require.NoError(t, err, "Append: a valid assistant reply to a message of the conversation is recorded")
	return m
}

func receive(t *testing.T, s store.ConversationStore, m channel.Message) store.Appended {
	t.Helper()
	a, err := s.AppendInbound(t.Context(), m)
	require.NoError(t, err, "AppendInbound: a valid message is recorded")
	return a
}

func message(t *testing.T, s store.ConversationStore, tenant channel.TenantID, id store.MessageID) store.Message {
	t.Helper()
	m, err := s.Message(t.Context(), tenant, id)
	require.NoError(t, err, "Message: returns the record of the tenant with the given id")
	return m
}

func history(t *testing.T, s store.ConversationStore, tenant channel.TenantID, conv store.ConversationID, q store.HistoryQuery) []store.Message {
	t.Helper()
	h, err := s.History(t.Context(), tenant, conv, q)
	require.NoError(t, err, "History: returns the records of the tenant's conversation")
	return h
}

func pending(t *testing.T, s store.ConversationStore, q store.PendingQuery) []store.Message {
	t.Helper()
	p, err := s.Pending(t.Context(), q)
	require.NoError(t, err, "Pending: returns the inbound records still pending")
	return p
}

func ids(ms []store.Message) []store.MessageID {
	out := make([]store.MessageID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// cancelled returns a context that is already cancelled.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// Stores may return times in another location; the suite compares them in
// UTC. These also drop monotonic clock readings.

func normMessage(m store.Message) store.Message {
	m.Time = m.Time.UTC()
	m.Processing.UpdatedAt = m.Processing.UpdatedAt.UTC()
	m.Delivery.UpdatedAt = m.Delivery.UpdatedAt.UTC()
	if m.Inbound != nil {
		in := *m.Inbound
		in.Time = in.Time.UTC()
		m.Inbound = &in
	}
	return m
}

func normMessages(ms []store.Message) []store.Message {
	out := make([]store.Message, len(ms))
	for i, m := range ms {
		out[i] = normMessage(m)
	}
	return out
}

func normConversation(c store.Conversation) store.Conversation {
	c.CreatedAt = c.CreatedAt.UTC()
	c.LastInboundAt = c.LastInboundAt.UTC()
	c.Handoff.Since = c.Handoff.Since.UTC()
	return c
}

func normSubject(s store.Subject) store.Subject {
	s.CreatedAt = s.CreatedAt.UTC()
	s.UpdatedAt = s.UpdatedAt.UTC()
	return s
}

func normInbound(m channel.Message) channel.Message {
	m.Time = m.Time.UTC()
	return m
}

// AppendInbound

func testAppendInboundNew(t *testing.T, newStore factory) {
	s := newStore(t)
	m := quoting("wamid.in.1", addr(tenantA, userA), 0)
	a, err := s.AppendInbound(t.Context(), m)
	require.NoError(t, err, "AppendInbound: a valid message is recorded")

	assert.False(t, a.Duplicate, "AppendInbound: a message never recorded before is not a duplicate")
	const c = "AppendInbound: a new message is recorded with a positive ID, role User, Turn equal to its ID and processing state ProcessPending, in its tenant and conversation"
	r := a.Message
	assert.Positive(t, int64(r.ID), c)
	assert.Equal(t, store.User, r.Role, c)
	assert.Equal(t, r.ID, r.Turn, c)
	assert.Equal(t, store.ProcessPending, r.Processing.State, c)
	assert.Equal(t, tenantA, r.Tenant, c)
	assert.NotEmpty(t, r.Conversation, c)
	assert.Equal(t, a.Conversation.ID, r.Conversation, "AppendInbound: Appended.Conversation is the message's conversation")
	assert.Equal(t, m.ID, r.ProviderID, "AppendInbound: the record's ProviderID is the provider's id of the received message")
	require.NotNil(t, r.Inbound, "AppendInbound: the record keeps the received message in Inbound")
	assert.Equal(t, normInbound(m), normInbound(*r.Inbound), "AppendInbound: the record's Inbound is the message as received, field for field")

	got := message(t, s, tenantA, r.ID)
	assert.Equal(t, normMessage(r), normMessage(got), "AppendInbound: the record returned is the record kept (Message returns it unchanged)")
	p := pending(t, s, store.PendingQuery{})
	assert.Equal(t, []store.MessageID{r.ID}, ids(p), "AppendInbound: a new message is pending until its processing state changes")
}

func testAppendInboundCreates(t *testing.T, newStore factory) {
	s := newStore(t)
	m := quoting("wamid.in.1", addr(tenantA, userA), 0)
	a := receive(t, s, m)

	const c = "AppendInbound: creates the conversation of m.From, with Address m.From and a subject"
	conv := a.Conversation
	assert.NotEmpty(t, conv.ID, c)
	assert.Equal(t, m.From, conv.Address, c)
	assert.NotEmpty(t, conv.Subject, c)
	assert.False(t, conv.CreatedAt.IsZero(), "Conversation: CreatedAt is when the conversation was first recorded")
	assert.True(t, conv.LastInboundAt.Equal(m.Time), "AppendInbound: sets the conversation's LastInboundAt to the time of the user's latest message")
	assert.Equal(t, store.OwnerAI, conv.Handoff.Owner, "Owner: the zero value is the AI; a new conversation is answered by the AI")

	got, err := s.Conversation(t.Context(), tenantA, conv.ID)
	require.NoError(t, err, "AppendInbound: the conversation it creates is found by Conversation")
	assert.Equal(t, normConversation(conv), normConversation(got), "AppendInbound: Appended.Conversation is the conversation as kept")

	subj, err := s.Subject(t.Context(), m.From)
	require.NoError(t, err, "AppendInbound: creates the subject of m.From, found by Subject at m.From")
	const cs = "AppendInbound: creates the subject of m.From with the sender's profile"
	assert.Equal(t, conv.Subject, subj.ID, cs)
	assert.Equal(t, m.From, subj.Address, cs)
	assert.Equal(t, m.Sender, subj.Profile, cs)
	assert.False(t, subj.CreatedAt.IsZero(), "Subject: CreatedAt is when the subject was first recorded")
}

func testAppendInboundRoundTrip(t *testing.T, newStore factory) {
	from := addr(tenantA, userA)
	image := text("wamid.image", from, "¿Esta en talla M?", 1)
	image.Type = channel.TypeImage
	image.Media = &channel.Media{Kind: channel.Image, ID: "media-1", MIMEType: "image/jpeg", SHA256: "6b86b273ff34fce1", Size: 48213}
	voice := channel.Message{ID: "wamid.voice", From: from, Time: at(2), Type: channel.TypeAudio,
		Media: &channel.Media{Kind: channel.Audio, URL: "https://example.com/m/2", MIMEType: "audio/ogg", Voice: true}}
	button := channel.Message{ID: "wamid.button", From: from, Time: at(3), Type: channel.TypeInteractive,
		Reply: &channel.Reply{Kind: channel.ReplyButton, ID: "yes", Title: "Sí"}}
	flow := channel.Message{ID: "wamid.flow", From: from, Time: at(4), Type: channel.TypeInteractive,
		Reply: &channel.Reply{Kind: channel.ReplyFlow, ID: "flow-1", Data: json.RawMessage(`{"size":"M","color":"azul"}`)}}
	location := channel.Message{ID: "wamid.location", From: from, Time: at(5), Type: channel.TypeLocation,
		Location: &channel.Location{Latitude: -12.0464, Longitude: -77.0428, Name: "Tienda", Address: "Av. Sol 123"}}
	contacts := channel.Message{ID: "wamid.contacts", From: from, Time: at(6), Type: channel.TypeContacts,
		Contacts: []channel.Contact{{Name: "Luis", Phones: []channel.Phone{"51900000009"}, Emails: []channel.Text{"luis@example.com"}, Org: "Luna"}}}
	order := channel.Message{ID: "wamid.order", From: from, Time: at(7), Type: channel.TypeOrder,
		Order: &channel.Order{CatalogID: "cat-1", Text: "para hoy", Items: []channel.OrderItem{
			{ProductID: "CH-ALP-M", Quantity: 2, UnitPrice: 149.9, Currency: "PEN"},
			{ProductID: "GO-ALP", Quantity: 1, UnitPrice: 39.5, Currency: "PEN"},
		}}}
	reaction := channel.Message{ID: "wamid.reaction", From: from, Time: at(8), Type: channel.TypeReaction,
		Reaction: &channel.Reaction{MessageID: "wamid.out.1", Emoji: "👍"}}
	system := channel.Message{ID: "wamid.system", From: from, Time: at(9), Type: channel.TypeSystem,
		System: &channel.SystemNote{Kind: "user_changed_number", Body: "changed number", NewUser: "51900000008"}}
	unsupported := channel.Message{ID: "wamid.unsupported", From: from, Time: at(10), Type: channel.TypeUnsupported,
		Raw:    json.RawMessage(`{"type":"poll","poll":{"options":["a","b"]}}`),
		Errors: []channel.ErrorInfo{{Code: 131051, Title: "Message type unknown", Detail: "poll"}}}
	forwarded := text("wamid.forwarded", from, "mira esto", 11)
	forwarded.Context = &channel.Context{Forwarded: true, FrequentlyForwarded: true}

	tests := []struct {
		name string
		m    channel.Message
	}{
		{"text with context and referral", quoting("wamid.text", from, 0)},
		{"image with caption", image},
		{"voice note", voice},
		{"button reply", button},
		{"flow reply", flow},
		{"location", location},
		{"contacts", contacts},
		{"order", order},
		{"reaction", reaction},
		{"system notice", system},
		{"unsupported with raw json", unsupported},
		{"forwarded", forwarded},
	}
	s := newStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const c = "AppendInbound: the record's Inbound is the message as received, field for field (Message returns it so)"
			a := receive(t, s, tt.m)
			require.NotNil(t, a.Message.Inbound, c)
			assert.Equal(t, normInbound(tt.m), normInbound(*a.Message.Inbound), c)
			got := message(t, s, tenantA, a.Message.ID)
			require.NotNil(t, got.Inbound, c)
			assert.Equal(t, normInbound(tt.m), normInbound(*got.Inbound), c)
		})
	}
}

func testAppendInboundDuplicate(t *testing.T, newStore factory) {
	s := newStore(t)
	m := quoting("wamid.in.1", addr(tenantA, userA), 0)
	first := receive(t, s, m)

	again := m
	again.Text = "otra cosa"
	again.Time = at(60)
	again.Sender = channel.Profile{Name: "Otra Persona", Phone: "51900000099", Username: "otra"}
	a, err := s.AppendInbound(t.Context(), again)
	require.NoError(t, err, "AppendInbound: a duplicate is not an error")
	const c = "AppendInbound: a message whose key was recorded before returns the earlier record with Duplicate set"
	assert.True(t, a.Duplicate, c)
	assert.Equal(t, first.Message.ID, a.Message.ID, c)
	assert.Equal(t, normMessage(first.Message), normMessage(a.Message), c)
	assert.Equal(t, first.Conversation.ID, a.Conversation.ID, c)

	const nc = "AppendInbound: a duplicate changes nothing"
	h := history(t, s, tenantA, first.Conversation.ID, store.HistoryQuery{})
	assert.Equal(t, []store.MessageID{first.Message.ID}, ids(h), nc+" (History holds the record once)")
	require.NotNil(t, h[0].Inbound, nc)
	assert.Equal(t, m.Text, h[0].Inbound.Text, nc+" (the record keeps the first message)")
	conv, err := s.Conversation(t.Context(), tenantA, first.Conversation.ID)
	require.NoError(t, err, "Conversation: returns the conversation of the tenant")
	assert.Equal(t, normConversation(first.Conversation), normConversation(conv), nc+" (the conversation, LastInboundAt included)")
	subj, err := s.Subject(t.Context(), m.From)
	require.NoError(t, err, "Subject: returns the subject at its address")
	assert.Equal(t, m.Sender, subj.Profile, nc+" (the subject's profile)")
	assert.Len(t, pending(t, s, store.PendingQuery{}), 1, nc+" (Pending holds the record once)")
}

func testAppendInboundKey(t *testing.T, newStore factory) {
	s := newStore(t)
	m := text("wamid.same", addr(tenantA, userA), "hola", 0)
	first := receive(t, s, m)

	otherTenant := text("wamid.same", addr(tenantB, userA), "hola", 0)
	otherChannel := text("wamid.same", channel.Address{Channel: channel.WebWidget, Tenant: tenantA, User: userA}, "hola", 0)
	const c = "AppendInbound: the idempotency key is (m.From.Channel, m.From.Tenant, m.ID): the same provider id under another tenant or channel is a new message"
	seen := map[store.MessageID]bool{first.Message.ID: true}
	for _, m := range []channel.Message{otherTenant, otherChannel} {
		a, err := s.AppendInbound(t.Context(), m)
		require.NoError(t, err, c)
		assert.False(t, a.Duplicate, c)
		assert.False(t, seen[a.Message.ID], c)
		seen[a.Message.ID] = true
	}
	assert.Len(t, pending(t, s, store.PendingQuery{}), 3, c)

	a, err := s.AppendInbound(t.Context(), otherChannel)
	require.NoError(t, err, "AppendInbound: a duplicate is not an error")
	assert.True(t, a.Duplicate, "AppendInbound: a message whose key was recorded before returns the earlier record with Duplicate set")
}

func testAppendInboundConcurrentDuplicates(t *testing.T, newStore factory) {
	s := newStore(t)
	const n = 32
	m := text("wamid.race", addr(tenantA, userA), "hola", 0)
	results := make([]store.Appended, n)
	errs := make([]error, n)
	racing(n, func(i int) {
		results[i], errs[i] = s.AppendInbound(t.Context(), m)
	})

	const c = "AppendInbound: when many calls with the same key race, the message is recorded once and the others return the earlier record with Duplicate set"
	fresh := 0
	for i := range n {
		require.NoError(t, errs[i], c)
		if !results[i].Duplicate {
			fresh++
		}
		assert.Equal(t, results[0].Message.ID, results[i].Message.ID, c)
	}
	assert.Equal(t, 1, fresh, c+" (exactly one call is not a duplicate)")
	h := history(t, s, tenantA, results[0].Message.Conversation, store.HistoryQuery{})
	assert.Len(t, h, 1, c)
	assert.Len(t, pending(t, s, store.PendingQuery{}), 1, c)
}

func testAppendInboundConcurrentMessages(t *testing.T, newStore factory) {
	s := newStore(t)
	const n = 64
	results := make([]store.Appended, n)
	errs := make([]error, n)
	racing(n, func(i int) {
		m := text(fmt.Sprintf("wamid.burst.%d", i), addr(tenantA, userA), "hola", i)
		results[i], errs[i] = s.AppendInbound(t.Context(), m)
	})

	const c = "AppendInbound: messages appended concurrently to one conversation are all recorded, with unique ids, in one conversation"
	seen := make(map[store.MessageID]bool, n)
	for i := range n {
		require.NoError(t, errs[i], c)
		assert.False(t, results[i].Duplicate, c)
		assert.False(t, seen[results[i].Message.ID], c+" (ids are unique)")
		seen[results[i].Message.ID] = true
		assert.Equal(t, results[0].Conversation.ID, results[i].Conversation.ID, c)
	}
	h := history(t, s, tenantA, results[0].Conversation.ID, store.HistoryQuery{})
	assert.Len(t, h, n, c)
	for i := 1; i < len(h); i++ {
		assert.Less(t, h[i-1].ID, h[i].ID, "History: inbound records, whose Turn is their ID, come in id order")
	}
}

func testAppendInboundInvalid(t *testing.T, newStore factory) {
	valid := text("wamid.in.1", addr(tenantA, userA), "hola", 0)
	tests := []struct {
		name   string
		change func(m *channel.Message)
	}{
		{"empty id", func(m *channel.Message) { m.ID = "" }},
		{"empty channel", func(m *channel.Message) { m.From.Channel = "" }},
		{"empty tenant", func(m *channel.Message) { m.From.Tenant = "" }},
		{"empty user", func(m *channel.Message) { m.From.User = "" }},
	}
	s := newStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid
			tt.change(&m)
			_, err := s.AppendInbound(t.Context(), m)
			require.ErrorIs(t, err, store.ErrInvalid, "AppendInbound: returns ErrInvalid when m.ID or any field of m.From is empty")
		})
	}
	assert.Empty(t, pending(t, s, store.PendingQuery{}), "ErrInvalid: the store did not change")
	_, err := s.Subject(t.Context(), valid.From)
	assert.ErrorIs(t, err, store.ErrNotFound, "ErrInvalid: the store did not change (no subject was created)")
}

func testAppendInboundFollows(t *testing.T, newStore factory) {
	s := newStore(t)
	from := addr(tenantA, userA)
	m1 := text("wamid.in.1", from, "hola", 0)
	m1.Sender = channel.Profile{Name: "Ana", Phone: "51900000001"}
	a1 := receive(t, s, m1)
	assert.True(t, a1.Conversation.LastInboundAt.Equal(at(0)), "AppendInbound: sets LastInboundAt to the time of the user's latest message")

	m2 := text("wamid.in.2", from, "¿hay talla M?", 90)
	m2.Sender = channel.Profile{Name: "Ana Quispe", Locale: "es_PE"}
	a2 := receive(t, s, m2)
	const cl = "AppendInbound: updates the conversation's LastInboundAt to the time of the user's latest message"
	assert.True(t, a2.Conversation.LastInboundAt.Equal(at(90)), cl)
	conv, err := s.Conversation(t.Context(), tenantA, a1.Conversation.ID)
	require.NoError(t, err, "Conversation: returns the conversation of the tenant")
	assert.True(t, conv.LastInboundAt.Equal(at(90)), cl)

	const cp = "AppendInbound: updates the subject's profile from the non-empty fields of m.Sender; empty fields keep what is known"
	subj, err := s.Subject(t.Context(), from)
	require.NoError(t, err, "Subject: returns the subject at its address")
	assert.Equal(t, channel.Profile{Name: "Ana Quispe", Phone: "51900000001", Locale: "es_PE"}, subj.Profile, cp)

	m3 := text("wamid.in.3", from, "gracias", 120)
	receive(t, s, m3)
	subj, err = s.Subject(t.Context(), from)
	require.NoError(t, err, "Subject: returns the subject at its address")
	assert.Equal(t, channel.Profile{Name: "Ana Quispe", Phone: "51900000001", Locale: "es_PE"}, subj.Profile, cp)
}

func testIDsIncrease(t *testing.T, newStore factory) {
	s := newStore(t)
	from := addr(tenantA, userA)
	var made []store.MessageID
	for i := range 3 {
		a := receive(t, s, text(fmt.Sprintf("wamid.in.%d", i), from, "hola", i))
		made = append(made, a.Message.ID)
		made = append(made, reply(t, s, a.Message, "hola, ¿en qué te ayudo?").ID)
	}
	for i := 1; i < len(made); i++ {
		assert.Less(t, made[i-1], made[i], "MessageID: positive, unique, and increasing in the order records of one conversation were made")
	}
}

// Append

func testAppendAssigns(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	in := store.Message{Tenant: tenantA, Conversation: a.Conversation.ID, Role: store.Note, Parts: []llm.Part{llm.TextPart("cliente frecuente")}}
	m, err := s.Append(t.Context(), in)
	require.NoError(t, err, "Append: records a valid note")
	const c = "Append: assigns ID and, when zero, Time (now) and Turn (the new ID)"
	assert.Greater(t, m.ID, a.Message.ID, c)
	assert.Equal(t, m.ID, m.Turn, c)
	assert.False(t, m.Time.IsZero(), c)
	assert.Equal(t, tenantA, m.Tenant, "Append: returns the record in its tenant")
	assert.Equal(t, a.Conversation.ID, m.Conversation, "Append: returns the record in its conversation")
	assert.Equal(t, store.Note, m.Role, "Append: returns the record with its role")

	got := message(t, s, tenantA, m.ID)
	assert.Equal(t, normMessage(m), normMessage(got), "Append: returns the record as kept (Message returns it unchanged)")
}

func testAppendKeeps(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	receive(t, s, text("wamid.in.2", addr(tenantA, userA), "¿hola?", 1))
	in := store.Message{Tenant: tenantA, Conversation: a.Conversation.ID, Turn: a.Message.ID, Time: at(5), Role: store.Assistant, Parts: []llm.Part{llm.TextPart("hola")}}
	m, err := s.Append(t.Context(), in)
	require.NoError(t, err, "Append: records a valid assistant reply")
	const c = "Append: keeps a non-zero Turn and Time"
	assert.Equal(t, a.Message.ID, m.Turn, c)
	assert.True(t, m.Time.Equal(at(5)), c)
	got := message(t, s, tenantA, m.ID)
	assert.Equal(t, a.Message.ID, got.Turn, c)
	assert.True(t, got.Time.Equal(at(5)), c)
}

func testAppendInvalid(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	valid := store.Message{Tenant: tenantA, Conversation: a.Conversation.ID, Role: store.Assistant, Parts: []llm.Part{llm.TextPart("hola")}}
	tests := []struct {
		name   string
		change func(m *store.Message)
	}{
		{"role user", func(m *store.Message) { m.Role = store.User }},
		{"role user with an inbound message", func(m *store.Message) {
			in := text("wamid.in.2", addr(tenantA, userA), "hola", 1)
			m.Role, m.Inbound = store.User, &in
		}},
		{"empty tenant", func(m *store.Message) { m.Tenant = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid
			tt.change(&m)
			_, err := s.Append(t.Context(), m)
			require.ErrorIs(t, err, store.ErrInvalid, "Append: returns ErrInvalid for role User or an empty tenant")
		})
	}
	h := history(t, s, tenantA, a.Conversation.ID, store.HistoryQuery{})
	assert.Equal(t, []store.MessageID{a.Message.ID}, ids(h), "ErrInvalid: the store did not change")
}

func testAppendNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	b := receive(t, s, text("wamid.in.1", addr(tenantB, userA), "hola", 0))
	tests := []struct {
		name   string
		tenant channel.TenantID
		conv   store.ConversationID
	}{
		{"unknown conversation", tenantA, store.ConversationID("no-such-conversation")},
		{"conversation of another tenant", tenantA, b.Conversation.ID},
		{"tenant without conversations", "no-such-tenant", a.Conversation.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(t.Context(), store.Message{Tenant: tt.tenant, Conversation: tt.conv, Role: store.Assistant, Parts: []llm.Part{llm.TextPart("hola")}})
			require.ErrorIs(t, err, store.ErrNotFound, "Append: returns ErrNotFound when the conversation is not the tenant's")
		})
	}
	for _, x := range []store.Appended{a, b} {
		h := history(t, s, x.Message.Tenant, x.Conversation.ID, store.HistoryQuery{})
		assert.Equal(t, []store.MessageID{x.Message.ID}, ids(h), "Append: a failed call changes nothing")
	}
}

func testAppendRoundTrip(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	conv := a.Conversation
	tests := []struct {
		name string
		m    store.Message
	}{
		{"assistant with provider state tool call and buttons", richReply(conv, a.Message.ID)},
		{"tool results", store.Message{Tenant: tenantA, Conversation: conv.ID, Turn: a.Message.ID, Role: store.Tool, Time: at(31), Parts: []llm.Part{
			llm.ToolResultPart(llm.ToolResult{CallID: "call_1", Name: "stock", Content: `{"units":3}`}),
			llm.ToolResultPart(llm.ToolResult{CallID: "call_2", Name: "price", Content: "timeout", IsError: true}),
		}}},
		{"assistant with media parts", store.Message{Tenant: tenantA, Conversation: conv.ID, Turn: a.Message.ID, Role: store.Assistant, Time: at(32), Parts: []llm.Part{
			{Kind: llm.KindImage, MIMEType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0x00}},
			{Kind: llm.KindDocument, MIMEType: "application/pdf", URL: "https://example.com/doc.pdf", Filename: "catalogo.pdf"},
			{Kind: llm.KindToolCall, ToolCall: &llm.ToolCall{ID: "call_9", Synthetic: true, Name: "lookup", Args: json.RawMessage(`{}`)}},
		}}},
		{"operator with media sent", store.Message{Tenant: tenantA, Conversation: conv.ID, Turn: a.Message.ID, Role: store.Operator, Time: at(33), ProviderID: "wamid.op.1",
			Outbound: &channel.Outbound{To: conv.Address, Text: "foto", Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/p.jpg"}, ReplyTo: "wamid.in.1"}}},
		{"operator with a list", store.Message{Tenant: tenantA, Conversation: conv.ID, Role: store.Operator, Time: at(34),
			Outbound: &channel.Outbound{To: conv.Address, Text: "elige", Interactive: &channel.Interactive{List: &channel.List{Button: "Tallas", Sections: []channel.Section{
				{Title: "Adulto", Rows: []channel.Row{{ID: "m", Title: "M", Description: "pecho 96"}, {ID: "l", Title: "L"}}},
			}}}}}},
		{"system template with delivery", store.Message{Tenant: tenantA, Conversation: conv.ID, Role: store.System, Time: at(35),
			Outbound: &channel.Outbound{To: conv.Address, Template: &channel.Template{Name: "order_ready", Language: "es",
				Header:  &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Document, ID: "media-7", Filename: "boleta.pdf"}},
				Params:  []channel.TemplateParam{{Name: "order_id", Value: "A-1001"}},
				Buttons: []channel.TemplateButton{{Index: 0, URLSuffix: "A-1001"}, {Index: 1, Payload: "stop"}}}},
			Delivery: store.Delivery{State: channel.Sent, Attempts: 1, UpdatedAt: at(36)}}},
		{"system reaction and location", store.Message{Tenant: tenantA, Conversation: conv.ID, Role: store.System, Time: at(37),
			Outbound: &channel.Outbound{To: conv.Address, Reaction: &channel.Reaction{MessageID: "wamid.in.1", Emoji: "❤"}, Location: &channel.Location{Latitude: -13.5, Longitude: -71.9, Name: "Cusco"}}}},
		{"note", store.Message{Tenant: tenantA, Conversation: conv.ID, Role: store.Note, Time: at(38), Parts: []llm.Part{llm.TextPart("prefiere azul")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const c = "Append: returns the record, and keeps it, field for field as given (Parts with their provider state, tool calls and results, Outbound) with ID and Turn assigned"
			m, err := s.Append(t.Context(), tt.m)
			require.NoError(t, err, "Append: records a valid message")
			want := tt.m
			want.ID = m.ID
			if want.Turn == 0 {
				want.Turn = m.ID
			}
			assert.Equal(t, normMessage(want), normMessage(m), c)
			assert.Equal(t, normMessage(want), normMessage(message(t, s, tenantA, m.ID)), c)
			h := history(t, s, tenantA, conv.ID, store.HistoryQuery{})
			var found bool
			for _, r := range h {
				if r.ID == m.ID {
					found = true
					assert.Equal(t, normMessage(want), normMessage(r), c+" (History returns it so)")
				}
			}
			assert.True(t, found, "History: returns every record of the conversation when Through and Limit are zero")
		})
	}
}

func testAppendToolArgs(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	tests := []struct {
		name string
		args string
	}{
		{"compact", `{"city":"Lima"}`},
		{"spaced", "{\n  \"city\": \"Lima\",  \"units\": 2\n}"},
		{"invalid json", `{"city":"Lima"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const c = "Append: a tool call's Args come back byte for byte, as the model wrote them, even when they are not valid JSON"
			call := llm.ToolCall{ID: "call_1", Name: "weather", Args: json.RawMessage(tt.args)}
			m, err := s.Append(t.Context(), store.Message{Tenant: tenantA, Conversation: a.Conversation.ID, Turn: a.Message.ID, Role: store.Assistant, Parts: []llm.Part{llm.ToolCallPart(call)}})
			require.NoError(t, err, c)
			got := message(t, s, tenantA, m.ID)
			require.Len(t, got.Parts, 1, c)
			require.NotNil(t, got.Parts[0].ToolCall, c)
			assert.Equal(t, tt.args, string(got.Parts[0].ToolCall.Args), c)
		})
	}
}

// Message

func testMessage(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, quoting("wamid.in.1", addr(tenantA, userA), 0))
	r, err := s.Append(t.Context(), richReply(a.Conversation, a.Message.ID))
	require.NoError(t, err, "Append: records a valid assistant reply")
	const c = "Message: returns the record with the given id"
	assert.Equal(t, normMessage(a.Message), normMessage(message(t, s, tenantA, a.Message.ID)), c)
	assert.Equal(t, normMessage(r), normMessage(message(t, s, tenantA, r.ID)), c)
}

func testMessageNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	r := reply(t, s, a.Message, "hola")
	tests := []struct {
		name   string
		tenant channel.TenantID
		id     store.MessageID
	}{
		{"inbound record of another tenant", tenantB, a.Message.ID},
		{"reply of another tenant", tenantB, r.ID},
		{"unknown id", tenantA, r.ID + 1000},
		{"zero id", tenantA, 0},
		{"negative id", tenantA, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Message(t.Context(), tt.tenant, tt.id)
			require.ErrorIs(t, err, store.ErrNotFound, "Message: returns ErrNotFound for an unknown id and for a record of another tenant")
		})
	}
}

// History

// turns records m1 and m2 from one user, then r1 answering m1 and r2
// answering m2: made in the order m1, m2, r1, r2, kept in the order m1,
// r1, m2, r2.
func turns(t *testing.T, s store.ConversationStore) (conv store.ConversationID, m1, m2, r1, r2 store.Message) {
	t.Helper()
	a1 := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	a2 := receive(t, s, text("wamid.in.2", addr(tenantA, userA), "¿hay talla M?", 1))
	r1 = reply(t, s, a1.Message, "hola, ¿en qué te ayudo?")
	r2 = reply(t, s, a2.Message, "sí, hay talla M")
	return a1.Conversation.ID, a1.Message, a2.Message, r1, r2
}

func testHistoryOrder(t *testing.T, newStore factory) {
	s := newStore(t)
	a1 := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	a2 := receive(t, s, text("wamid.in.2", addr(tenantA, userA), "¿hay talla M?", 1))
	r1 := reply(t, s, a1.Message, "hola, ¿en qué te ayudo?")
	const c = "History: records are ordered by (Turn, ID), so that a reply follows the message it answers even when later messages were recorded before it"
	h := history(t, s, tenantA, a1.Conversation.ID, store.HistoryQuery{})
	assert.Equal(t, []store.MessageID{a1.Message.ID, r1.ID, a2.Message.ID}, ids(h), c)
	assert.Equal(t, normMessages([]store.Message{a1.Message, r1, a2.Message}), normMessages(h), "History: returns the records as kept")
}

func testHistoryThrough(t *testing.T, newStore factory) {
	s := newStore(t)
	conv, m1, m2, r1, r2 := turns(t, s)
	const c = "History: returns the records whose Turn is at most q.Through (all when zero)"
	tests := []struct {
		name    string
		through store.MessageID
		want    []store.MessageID
	}{
		{"through the first turn", m1.ID, []store.MessageID{m1.ID, r1.ID}},
		{"through the second turn", m2.ID, []store.MessageID{m1.ID, r1.ID, m2.ID, r2.ID}},
		{"zero", 0, []store.MessageID{m1.ID, r1.ID, m2.ID, r2.ID}},
		{"past the last turn", r2.ID + 100, []store.MessageID{m1.ID, r1.ID, m2.ID, r2.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := history(t, s, tenantA, conv, store.HistoryQuery{Through: tt.through})
			assert.Equal(t, tt.want, ids(h), c)
		})
	}
}

func testHistoryLimit(t *testing.T, newStore factory) {
	s := newStore(t)
	conv, m1, m2, r1, r2 := turns(t, s)
	const c = "History: returns at most q.Limit records (all when zero): the last ones in (Turn, ID) order, returned oldest first"
	tests := []struct {
		name string
		q    store.HistoryQuery
		want []store.MessageID
	}{
		{"one", store.HistoryQuery{Limit: 1}, []store.MessageID{r2.ID}},
		{"two", store.HistoryQuery{Limit: 2}, []store.MessageID{m2.ID, r2.ID}},
		{"three", store.HistoryQuery{Limit: 3}, []store.MessageID{r1.ID, m2.ID, r2.ID}},
		{"more than there are", store.HistoryQuery{Limit: 10}, []store.MessageID{m1.ID, r1.ID, m2.ID, r2.ID}},
		{"zero", store.HistoryQuery{}, []store.MessageID{m1.ID, r1.ID, m2.ID, r2.ID}},
		{"one through the first turn", store.HistoryQuery{Through: m1.ID, Limit: 1}, []store.MessageID{r1.ID}},
		{"two through the second turn", store.HistoryQuery{Through: m2.ID, Limit: 2}, []store.MessageID{m2.ID, r2.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ids(history(t, s, tenantA, conv, tt.q)), c)
		})
	}

	// m3, m4 then r3 answering m3: the last record by (Turn, ID) is m4, not
	// the last one made.
	a3 := receive(t, s, text("wamid.in.3", addr(tenantA, userA), "¿y en azul?", 2))
	a4 := receive(t, s, text("wamid.in.4", addr(tenantA, userA), "¿y en rojo?", 3))
	r3 := reply(t, s, a3.Message, "sí, en azul")
	assert.Equal(t, []store.MessageID{a4.Message.ID}, ids(history(t, s, tenantA, conv, store.HistoryQuery{Limit: 1})),
		c+" (the last record is the last by (Turn, ID), not the last recorded)")
	assert.Equal(t, []store.MessageID{a3.Message.ID, r3.ID, a4.Message.ID}, ids(history(t, s, tenantA, conv, store.HistoryQuery{Limit: 3})), c)
	assert.Equal(t, []store.MessageID{r2.ID, a3.Message.ID, r3.ID}, ids(history(t, s, tenantA, conv, store.HistoryQuery{Through: a3.Message.ID, Limit: 3})), c)
}

func testHistoryNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	receive(t, s, text("wamid.in.1", addr(tenantB, userA), "hola", 0))
	tests := []struct {
		name   string
		tenant channel.TenantID
		conv   store.ConversationID
	}{
		{"unknown conversation", tenantA, "no-such-conversation"},
		{"conversation of another tenant", tenantB, a.Conversation.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := s.History(t.Context(), tt.tenant, tt.conv, store.HistoryQuery{})
			require.ErrorIs(t, err, store.ErrNotFound, "History: returns ErrNotFound when the conversation is not the tenant's")
			assert.Empty(t, h, "a store never returns a record of another tenant than the one asked for")
		})
	}
}

// Pending

// pendingFixture records m1 and m2 from userA of tenant A, answers m1,
// records m3 from userB of tenant A and m4 from userA of tenant B.
func pendingFixture(t *testing.T, s store.ConversationStore) (m1, m2, m3, m4 store.Appended) {
	t.Helper()
	m1 = receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	m2 = receive(t, s, text("wamid.in.2", addr(tenantA, userA), "¿hay talla M?", 1))
	reply(t, s, m1.Message, "hola")
	m3 = receive(t, s, text("wamid.in.3", addr(tenantA, userB), "buenas", 2))
	m4 = receive(t, s, text("wamid.in.1", addr(tenantB, userA), "hola", 3))
	return m1, m2, m3, m4
}

func testPending(t *testing.T, newStore factory) {
	s := newStore(t)
	m1, m2, m3, m4 := pendingFixture(t, s)
	p := pending(t, s, store.PendingQuery{})
	const c = "Pending: returns the inbound records still in state ProcessPending, of every tenant when q.Tenant is empty, ordered by ID"
	assert.Equal(t, []store.MessageID{m1.Message.ID, m2.Message.ID, m3.Message.ID, m4.Message.ID}, ids(p), c)
	if assert.Len(t, p, 4, c) {
		assert.Equal(t, normMessage(m1.Message), normMessage(p[0]), "Pending: returns the records as kept")
	}
}

func testPendingDone(t *testing.T, newStore factory) {
	s := newStore(t)
	m1, m2, m3, m4 := pendingFixture(t, s)
	tests := []struct {
		msg   store.Message
		state store.ProcessState
	}{
		{m2.Message, store.ProcessDone},
		{m3.Message, store.ProcessSkipped},
		{m4.Message, store.ProcessFailed},
	}
	for _, tt := range tests {
		err := s.SetProcessing(t.Context(), tt.msg.Tenant, tt.msg.ID, store.Processing{State: tt.state, UpdatedAt: at(10)})
		require.NoError(t, err, "SetProcessing: replaces the processing state of an inbound record")
	}
	const c = "Pending: a record whose processing state is no longer ProcessPending is not returned"
	assert.Equal(t, []store.MessageID{m1.Message.ID}, ids(pending(t, s, store.PendingQuery{})), c)
	assert.Empty(t, pending(t, s, store.PendingQuery{Tenant: tenantB}), c)

	err := s.SetProcessing(t.Context(), tenantA, m3.Message.ID, store.Processing{State: store.ProcessPending, Attempts: 1})
	require.NoError(t, err, "SetProcessing: replaces the processing state of an inbound record")
	assert.Equal(t, []store.MessageID{m1.Message.ID, m3.Message.ID}, ids(pending(t, s, store.PendingQuery{})),
		"Pending: a record set back to ProcessPending is returned again, in id order")
}

func testPendingFilters(t *testing.T, newStore factory) {
	s := newStore(t)
	m1, m2, m3, m4 := pendingFixture(t, s)
	tests := []struct {
		name   string
		clause string
		q      store.PendingQuery
		want   []store.MessageID
	}{
		{"tenant", "Pending: q.Tenant restricts the result to one tenant",
			store.PendingQuery{Tenant: tenantA}, []store.MessageID{m1.Message.ID, m2.Message.ID, m3.Message.ID}},
		{"other tenant", "Pending: q.Tenant restricts the result to one tenant",
			store.PendingQuery{Tenant: tenantB}, []store.MessageID{m4.Message.ID}},
		{"conversation", "Pending: q.Conversation restricts the result to one conversation of q.Tenant",
			store.PendingQuery{Tenant: tenantA, Conversation: m1.Conversation.ID}, []store.MessageID{m1.Message.ID, m2.Message.ID}},
		{"limit", "Pending: q.Limit is the most records to return, the oldest ones",
			store.PendingQuery{Limit: 2}, []store.MessageID{m1.Message.ID, m2.Message.ID}},
		{"tenant and limit", "Pending: q.Limit is the most records to return, the oldest ones",
			store.PendingQuery{Tenant: tenantA, Limit: 2}, []store.MessageID{m1.Message.ID, m2.Message.ID}},
		{"conversation and limit", "Pending: q.Limit is the most records to return, the oldest ones",
			store.PendingQuery{Tenant: tenantA, Conversation: m1.Conversation.ID, Limit: 1}, []store.MessageID{m1.Message.ID}},
		{"limit above the count", "Pending: q.Limit is the most records to return, the oldest ones",
			store.PendingQuery{Limit: 10}, []store.MessageID{m1.Message.ID, m2.Message.ID, m3.Message.ID, m4.Message.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ids(pending(t, s, tt.q)), tt.clause)
		})
	}
	t.Run("conversation of another tenant", func(t *testing.T) {
		p, err := s.Pending(t.Context(), store.PendingQuery{Tenant: tenantB, Conversation: m1.Conversation.ID})
		if err != nil {
			require.ErrorIs(t, err, store.ErrNotFound, "Pending: a conversation that is not q.Tenant's yields no records (or ErrNotFound)")
		}
		assert.Empty(t, p, "a store never returns a record of another tenant than the one asked for")
	})
}

// SetProcessing

func testSetProcessing(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	steps := []store.Processing{
		{State: store.ProcessFailed, Attempts: 1, Reason: "model_unavailable", UpdatedAt: at(5)},
		{State: store.ProcessDone, Attempts: 2, UpdatedAt: at(9)},
		{State: store.ProcessSkipped, Reason: "handoff"},
	}
	for _, p := range steps {
		err := s.SetProcessing(t.Context(), tenantA, a.Message.ID, p)
		require.NoError(t, err, "SetProcessing: replaces the processing state of an inbound record")
		got := message(t, s, tenantA, a.Message.ID)
		want := a.Message
		want.Processing = p
		assert.Equal(t, normMessage(want), normMessage(got), "SetProcessing: replaces the processing state, and nothing else, and the store keeps it")
	}
}

func testSetProcessingNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	const c = "SetProcessing: returns ErrNotFound for an unknown record and for a record of another tenant, and changes nothing"
	err := s.SetProcessing(t.Context(), tenantB, a.Message.ID, store.Processing{State: store.ProcessDone})
	require.ErrorIs(t, err, store.ErrNotFound, c)
	err = s.SetProcessing(t.Context(), tenantA, a.Message.ID+1000, store.Processing{State: store.ProcessDone})
	require.ErrorIs(t, err, store.ErrNotFound, c)
	assert.Equal(t, normMessage(a.Message), normMessage(message(t, s, tenantA, a.Message.ID)), c)
	assert.Len(t, pending(t, s, store.PendingQuery{}), 1, c)
}

func testSetProcessingInvalid(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	r := reply(t, s, a.Message, "hola")
	err := s.SetProcessing(t.Context(), tenantA, r.ID, store.Processing{State: store.ProcessDone})
	require.ErrorIs(t, err, store.ErrInvalid, "SetProcessing: returns ErrInvalid when the record is not an inbound one")
	assert.Equal(t, normMessage(r), normMessage(message(t, s, tenantA, r.ID)), "ErrInvalid: the store did not change")
}

// UpdateDelivery

func testUpdateDeliveryByID(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	r := reply(t, s, a.Message, "hola")
	require.Empty(t, r.ProviderID, "Append: returns the record as given (no provider id)")

	u := store.DeliveryUpdate{ID: r.ID, ProviderID: "wamid.out.1", State: channel.Sent, Attempts: 1, Time: at(10)}
	got, err := s.UpdateDelivery(t.Context(), tenantA, u)
	require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	want := r
	want.ProviderID = "wamid.out.1"
	want.Delivery = store.Delivery{State: channel.Sent, Attempts: 1, UpdatedAt: at(10)}
	const c = "UpdateDelivery: merges u into the record with ID u.ID, which takes u.ProviderID when it has none, and returns the updated record"
	assert.Equal(t, normMessage(want), normMessage(got), c)
	assert.Equal(t, normMessage(want), normMessage(message(t, s, tenantA, r.ID)), c+" (the store keeps it)")

	got, err = s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ID: r.ID, ProviderID: "wamid.other", State: channel.Delivered, Time: at(11)})
	require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	assert.Equal(t, channel.MessageID("wamid.out.1"), got.ProviderID, "UpdateDelivery: only a record without a provider id takes u.ProviderID")
	assert.Equal(t, channel.Delivered, got.Delivery.State, c)
}

func testUpdateDeliveryByProviderID(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	r1 := reply(t, s, a.Message, "hola")
	r2 := reply(t, s, a.Message, "¿en qué te ayudo?")
	op, err := s.Append(t.Context(), store.Message{Tenant: tenantA, Conversation: a.Conversation.ID, Role: store.Operator, ProviderID: "wamid.op.1",
		Outbound: &channel.Outbound{To: a.Message.Inbound.From, Text: "soy Luis"}})
	require.NoError(t, err, "Append: records an operator message already sent")
	for i, r := range []store.Message{r1, r2} {
		_, err := s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ID: r.ID, ProviderID: channel.MessageID(fmt.Sprintf("wamid.out.%d", i+1)), State: channel.Sent})
		require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	}

	const c = "UpdateDelivery: when u.ID is zero, updates the tenant's record whose ProviderID is u.ProviderID, and returns it"
	got, err := s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ProviderID: "wamid.out.2", State: channel.Read, Time: at(20)})
	require.NoError(t, err, c)
	assert.Equal(t, r2.ID, got.ID, c)
	assert.Equal(t, channel.Read, got.Delivery.State, c)
	assert.Equal(t, channel.Read, message(t, s, tenantA, r2.ID).Delivery.State, c+" (the store keeps it)")
	assert.Equal(t, channel.Sent, message(t, s, tenantA, r1.ID).Delivery.State, c+" (and no other record)")

	got, err = s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ProviderID: "wamid.op.1", State: channel.Delivered})
	require.NoError(t, err, c+" (also a ProviderID given to Append)")
	assert.Equal(t, op.ID, got.ID, c+" (also a ProviderID given to Append)")
}

func testUpdateDeliveryNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	r := reply(t, s, a.Message, "hola")
	_, err := s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ID: r.ID, ProviderID: "wamid.out.1", State: channel.Sent})
	require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	tests := []struct {
		name   string
		tenant channel.TenantID
		u      store.DeliveryUpdate
	}{
		{"unknown provider id", tenantA, store.DeliveryUpdate{ProviderID: "wamid.unknown", State: channel.Read}},
		{"unknown id", tenantA, store.DeliveryUpdate{ID: r.ID + 1000, State: channel.Read}},
		{"id of another tenant", tenantB, store.DeliveryUpdate{ID: r.ID, State: channel.Read}},
		{"provider id of another tenant", tenantB, store.DeliveryUpdate{ProviderID: "wamid.out.1", State: channel.Read}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpdateDelivery(t.Context(), tt.tenant, tt.u)
			require.ErrorIs(t, err, store.ErrNotFound, "UpdateDelivery: returns ErrNotFound when no record of the tenant has the id or provider id")
		})
	}
	assert.Equal(t, channel.Sent, message(t, s, tenantA, r.ID).Delivery.State, "UpdateDelivery: a failed call changes nothing")
}

func testUpdateDeliveryMerge(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	tests := []struct {
		name    string
		updates []store.DeliveryUpdate
		want    channel.DeliveryState
	}{
		{"read then delivered stays read", []store.DeliveryUpdate{{State: channel.Read}, {State: channel.Delivered}}, channel.Read},
		{"failed after delivered stays delivered", []store.DeliveryUpdate{{State: channel.Sent}, {State: channel.Delivered}, {State: channel.Failed}}, channel.Delivered},
		{"delivered after failed becomes delivered", []store.DeliveryUpdate{{State: channel.Sent}, {State: channel.Failed}, {State: channel.Delivered}}, channel.Delivered},
		{"failed after sent becomes failed", []store.DeliveryUpdate{{State: channel.Sent}, {State: channel.Failed, ErrorCode: 131047, ErrorTitle: "Re-engagement message"}}, channel.Failed},
		{"sent after read stays read", []store.DeliveryUpdate{{State: channel.Read}, {State: channel.Sent}}, channel.Read},
		{"attempts only grow", []store.DeliveryUpdate{{State: channel.Pending, Attempts: 3}, {State: channel.Sent, Attempts: 1}}, channel.Sent},
		{"time only moves forward", []store.DeliveryUpdate{{State: channel.Sent, Time: at(20)}, {State: channel.Delivered, Time: at(10)}}, channel.Delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const c = "UpdateDelivery: merges u into the record's delivery state with Delivery.Merge"
			r := reply(t, s, a.Message, "hola")
			var want store.Delivery
			for _, u := range tt.updates {
				want, _ = want.Merge(u)
				u.ID = r.ID
				got, err := s.UpdateDelivery(t.Context(), tenantA, u)
				require.NoError(t, err, c)
				assert.Equal(t, normMessage(store.Message{Delivery: want}).Delivery, normMessage(got).Delivery, c+" (the record returned)")
			}
			assert.Equal(t, tt.want, want.State, "Delivery.Merge: "+tt.name)
			assert.Equal(t, normMessage(store.Message{Delivery: want}).Delivery, normMessage(message(t, s, tenantA, r.ID)).Delivery, c+" (the record kept)")
		})
	}
}

func testUpdateDeliveryConcurrent(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	const records = 16
	states := []channel.DeliveryState{channel.Sent, channel.Delivered, channel.Read, channel.Failed}
	recs := make([]store.Message, records)
	for i := range recs {
		recs[i] = reply(t, s, a.Message, "hola")
		_, err := s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ID: recs[i].ID, ProviderID: channel.MessageID(fmt.Sprintf("wamid.out.%d", i)), State: channel.Pending})
		require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, records*len(states))
	for i, r := range recs {
		for k, j := range rand.Perm(len(states)) {
			u := store.DeliveryUpdate{State: states[j], Attempts: j + 1, Time: at(j)}
			if k%2 == 0 {
				u.ID = r.ID
			} else {
				u.ProviderID = channel.MessageID(fmt.Sprintf("wamid.out.%d", i))
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.UpdateDelivery(t.Context(), tenantA, u)
				errs <- err
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)

	const c = "UpdateDelivery: merges atomically, so that concurrent and out-of-order updates never move the state backwards"
	for err := range errs {
		require.NoError(t, err, c)
	}
	for _, r := range recs {
		d := message(t, s, tenantA, r.ID).Delivery
		assert.Equal(t, channel.Read, d.State, c+" (sent, delivered, read and failed in any order end read)")
		assert.Equal(t, len(states), d.Attempts, c+" (attempts only grow)")
		assert.True(t, d.UpdatedAt.Equal(at(len(states)-1)), c+" (UpdatedAt is the latest time seen)")
	}
}

// OpenConversation

func testOpenConversation(t *testing.T, newStore factory) {
	s := newStore(t)
	a := addr(tenantA, userA)
	c1, err := s.OpenConversation(t.Context(), a)
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	const c = "OpenConversation: creates the conversation with addr, and its subject, when there is none"
	assert.NotEmpty(t, c1.ID, c)
	assert.Equal(t, a, c1.Address, c)
	assert.NotEmpty(t, c1.Subject, c)
	subj, err := s.Subject(t.Context(), a)
	require.NoError(t, err, c)
	assert.Equal(t, c1.Subject, subj.ID, c)
	assert.Equal(t, a, subj.Address, c)

	c2, err := s.OpenConversation(t.Context(), a)
	require.NoError(t, err, "OpenConversation: returns the conversation with addr")
	assert.Equal(t, normConversation(c1), normConversation(c2), "OpenConversation: returns the conversation with addr once it exists")

	other, err := s.OpenConversation(t.Context(), addr(tenantA, userB))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	assert.NotEqual(t, c1.ID, other.ID, "ConversationID: unique within the store")
	assert.NotEqual(t, c1.Subject, other.Subject, "SubjectID: unique within the store")
}

func testOpenConversationConcurrent(t *testing.T, newStore factory) {
	s := newStore(t)
	const n = 16
	convs := make([]store.Conversation, n)
	errs := make([]error, n)
	racing(n, func(i int) {
		convs[i], errs[i] = s.OpenConversation(t.Context(), addr(tenantA, userA))
	})
	const c = "OpenConversation: concurrent calls with one address create one conversation and all return it"
	for i := range n {
		require.NoError(t, errs[i], c)
		assert.Equal(t, convs[0].ID, convs[i].ID, c)
		assert.Equal(t, convs[0].Subject, convs[i].Subject, c)
	}
}

func testOpenConversationInbound(t *testing.T, newStore factory) {
	s := newStore(t)
	conv, err := s.OpenConversation(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	a := receive(t, s, quoting("wamid.in.1", addr(tenantA, userA), 0))
	const c = "AppendInbound: records m in the conversation of m.From, the one OpenConversation returns"
	assert.Equal(t, conv.ID, a.Conversation.ID, c)
	assert.Equal(t, conv.ID, a.Message.Conversation, c)
	assert.Equal(t, conv.Subject, a.Conversation.Subject, c)
	subj, err := s.Subject(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "Subject: returns the subject at its address")
	assert.Equal(t, conv.Subject, subj.ID, c)

	again, err := s.OpenConversation(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "OpenConversation: returns the conversation with addr")
	assert.Equal(t, normConversation(a.Conversation), normConversation(again), "OpenConversation: returns the conversation as kept, LastInboundAt included")
}

func testOpenConversationInvalid(t *testing.T, newStore factory) {
	s := newStore(t)
	tests := []struct {
		name string
		addr channel.Address
	}{
		{"empty channel", channel.Address{Tenant: tenantA, User: userA}},
		{"empty tenant", channel.Address{Channel: channel.WhatsApp, User: userA}},
		{"empty user", channel.Address{Channel: channel.WhatsApp, Tenant: tenantA}},
		{"zero address", channel.Address{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.OpenConversation(t.Context(), tt.addr)
			require.ErrorIs(t, err, store.ErrInvalid, "OpenConversation: returns ErrInvalid when a field of addr is empty")
		})
	}
}

// Conversation

func testConversation(t *testing.T, newStore factory) {
	s := newStore(t)
	opened, err := s.OpenConversation(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	got, err := s.Conversation(t.Context(), tenantA, opened.ID)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	assert.Equal(t, normConversation(opened), normConversation(got), "Conversation: returns the conversation with the given id")
}

func testConversationNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a, err := s.OpenConversation(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	_, err = s.OpenConversation(t.Context(), addr(tenantB, userA))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	for _, tt := range []struct {
		name   string
		tenant channel.TenantID
		id     store.ConversationID
	}{
		{"unknown id", tenantA, "no-such-conversation"},
		{"empty id", tenantA, ""},
		{"another tenant", tenantB, a.ID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Conversation(t.Context(), tt.tenant, tt.id)
			require.ErrorIs(t, err, store.ErrNotFound, "Conversation: returns ErrNotFound for an unknown id and for a conversation of another tenant")
		})
	}
}

// SetHandoff

func testSetHandoff(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	steps := []store.Handoff{
		{Owner: store.OwnerHuman, Operator: "luis", Reason: "operator_claim", Since: at(10)},
		{Owner: store.OwnerAI, Reason: "timeout", Since: at(20)},
		{},
	}
	for _, h := range steps {
		got, err := s.SetHandoff(t.Context(), tenantA, a.Conversation.ID, h)
		require.NoError(t, err, "SetHandoff: replaces who owns the tenant's conversation")
		want := a.Conversation
		want.Handoff = h
		const c = "SetHandoff: replaces the Handoff, and nothing else, and returns the conversation updated"
		assert.Equal(t, normConversation(want), normConversation(got), c)
		kept, err := s.Conversation(t.Context(), tenantA, a.Conversation.ID)
		require.NoError(t, err, "Conversation: returns the conversation with the given id")
		assert.Equal(t, normConversation(want), normConversation(kept), c+" (the store keeps it)")
	}
}

func testSetHandoffNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, text("wamid.in.1", addr(tenantA, userA), "hola", 0))
	const c = "SetHandoff: returns ErrNotFound for an unknown conversation and for a conversation of another tenant, and changes nothing"
	_, err := s.SetHandoff(t.Context(), tenantB, a.Conversation.ID, store.Handoff{Owner: store.OwnerHuman, Operator: "luis"})
	require.ErrorIs(t, err, store.ErrNotFound, c)
	_, err = s.SetHandoff(t.Context(), tenantA, "no-such-conversation", store.Handoff{Owner: store.OwnerHuman, Operator: "luis"})
	require.ErrorIs(t, err, store.ErrNotFound, c)
	got, err := s.Conversation(t.Context(), tenantA, a.Conversation.ID)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	assert.Equal(t, normConversation(a.Conversation), normConversation(got), c)
}

// Subject

func testSubject(t *testing.T, newStore factory) {
	s := newStore(t)
	m := quoting("wamid.in.1", addr(tenantA, userA), 0)
	a := receive(t, s, m)
	receive(t, s, text("wamid.in.1", addr(tenantA, userB), "hola", 0))
	got, err := s.Subject(t.Context(), m.From)
	require.NoError(t, err, "Subject: returns the subject whose address is addr")
	const c = "Subject: returns the subject whose address is addr"
	assert.Equal(t, a.Conversation.Subject, got.ID, c)
	assert.Equal(t, m.From, got.Address, c)
	assert.Equal(t, m.Sender, got.Profile, c)
}

func testSubjectByPhone(t *testing.T, newStore factory) {
	s := newStore(t)
	const c = "Subject: with no subject at addr, returns the one on addr's channel and tenant whose profile phone equals addr.User"
	bsuid := addr(tenantA, "bsuid-7f3a9c")
	m := text("wamid.in.1", bsuid, "hola", 0)
	m.Sender = channel.Profile{Name: "Ana", Phone: "51987654321"}
	a := receive(t, s, m)
	got, err := s.Subject(t.Context(), addr(tenantA, "51987654321"))
	require.NoError(t, err, c)
	assert.Equal(t, a.Conversation.Subject, got.ID, c)
	assert.Equal(t, bsuid, got.Address, c)

	// The phone may come with a later message.
	later := addr(tenantA, "bsuid-0b1d2e")
	b := receive(t, s, text("wamid.in.2", later, "hola", 1))
	_, err = s.Subject(t.Context(), addr(tenantA, "51987650000"))
	require.ErrorIs(t, err, store.ErrNotFound, "Subject: returns ErrNotFound when no subject is known at addr")
	m2 := text("wamid.in.3", later, "soy yo", 2)
	m2.Sender = channel.Profile{Phone: "51987650000"}
	receive(t, s, m2)
	got, err = s.Subject(t.Context(), addr(tenantA, "51987650000"))
	require.NoError(t, err, c+" (a phone learnt from a later message)")
	assert.Equal(t, b.Conversation.Subject, got.ID, c+" (a phone learnt from a later message)")

	// An exact address wins over a phone.
	direct := receive(t, s, text("wamid.in.4", addr(tenantA, "51987654321"), "hola", 3))
	got, err = s.Subject(t.Context(), addr(tenantA, "51987654321"))
	require.NoError(t, err, "Subject: returns the subject whose address is addr")
	assert.Equal(t, direct.Conversation.Subject, got.ID, "Subject: returns the subject whose address is addr, before one found by phone")
}

func testSubjectNotFound(t *testing.T, newStore factory) {
	s := newStore(t)
	m := text("wamid.in.1", addr(tenantA, "bsuid-7f3a9c"), "hola", 0)
	m.Sender = channel.Profile{Phone: "51987654321"}
	receive(t, s, m)
	tests := []struct {
		name string
		addr channel.Address
	}{
		{"another tenant", addr(tenantB, "bsuid-7f3a9c")},
		{"another channel", channel.Address{Channel: channel.WebWidget, Tenant: tenantA, User: "bsuid-7f3a9c"}},
		{"phone in another tenant", addr(tenantB, "51987654321")},
		{"phone on another channel", channel.Address{Channel: channel.Instagram, Tenant: tenantA, User: "51987654321"}},
		{"unknown user", addr(tenantA, "51900000077")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Subject(t.Context(), tt.addr)
			require.ErrorIs(t, err, store.ErrNotFound, "Subject: returns ErrNotFound unless a subject of addr's channel and tenant has the address or the phone")
		})
	}
}

// Tenants

func testTenantIsolation(t *testing.T, newStore factory) {
	s := newStore(t)
	type side struct {
		tenant channel.TenantID
		in     store.Appended
		out    store.Message
	}
	sides := []*side{{tenant: tenantA}, {tenant: tenantB}}
	for i, x := range sides {
		m := text("wamid.same", addr(x.tenant, userA), "hola", i)
		m.Sender = channel.Profile{Name: channel.Text("cliente " + string(x.tenant)), Phone: "51900000001"}
		x.in = receive(t, s, m)
		x.out = reply(t, s, x.in.Message, "hola")
		_, err := s.UpdateDelivery(t.Context(), x.tenant, store.DeliveryUpdate{ID: x.out.ID, ProviderID: "wamid.out.same", State: channel.Sent})
		require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	}
	const c = "a store never returns or changes a record of another tenant than the one asked for, and reports such records as ErrNotFound"
	for i, x := range sides {
		other := sides[1-i]
		t.Run(string(x.tenant), func(t *testing.T) {
			assert.False(t, x.in.Duplicate, "AppendInbound: the same provider id under another tenant is a new message")
			assert.NotEqual(t, other.in.Conversation.ID, x.in.Conversation.ID, c)

			_, err := s.Message(t.Context(), x.tenant, other.in.Message.ID)
			assert.ErrorIs(t, err, store.ErrNotFound, c+" (Message)")
			_, err = s.History(t.Context(), x.tenant, other.in.Conversation.ID, store.HistoryQuery{})
			assert.ErrorIs(t, err, store.ErrNotFound, c+" (History)")
			_, err = s.Conversation(t.Context(), x.tenant, other.in.Conversation.ID)
			assert.ErrorIs(t, err, store.ErrNotFound, c+" (Conversation)")

			h := history(t, s, x.tenant, x.in.Conversation.ID, store.HistoryQuery{})
			assert.Equal(t, []store.MessageID{x.in.Message.ID, x.out.ID}, ids(h), c+" (History)")
			assert.Equal(t, []store.MessageID{x.in.Message.ID}, ids(pending(t, s, store.PendingQuery{Tenant: x.tenant})), c+" (Pending)")
			subj, err := s.Subject(t.Context(), addr(x.tenant, userA))
			require.NoError(t, err, "Subject: returns the subject whose address is addr")
			assert.Equal(t, x.in.Conversation.Subject, subj.ID, c+" (Subject)")
			assert.Equal(t, channel.Text("cliente "+string(x.tenant)), subj.Profile.Name, c+" (Subject)")
		})
	}

	got, err := s.UpdateDelivery(t.Context(), tenantB, store.DeliveryUpdate{ProviderID: "wamid.out.same", State: channel.Read})
	require.NoError(t, err, "UpdateDelivery: updates the tenant's record whose ProviderID is u.ProviderID")
	assert.Equal(t, sides[1].out.ID, got.ID, c+" (UpdateDelivery by provider id)")
	assert.Equal(t, channel.Sent, message(t, s, tenantA, sides[0].out.ID).Delivery.State, c+" (UpdateDelivery by provider id)")
	assert.Equal(t, channel.Read, message(t, s, tenantB, sides[1].out.ID).Delivery.State, c+" (UpdateDelivery by provider id)")
}

// Context

// state is what a store shows of the context fixture, to compare before
// and after a call.
type state struct {
	History      []store.Message
	Pending      []store.Message
	Conversation store.Conversation
	Subject      store.Subject
	NewSubject   error
}

func snapshot(t *testing.T, s store.ConversationStore, conv store.ConversationID) state {
	t.Helper()
	var st state
	st.History = normMessages(history(t, s, tenantA, conv, store.HistoryQuery{}))
	st.Pending = normMessages(pending(t, s, store.PendingQuery{}))
	c, err := s.Conversation(t.Context(), tenantA, conv)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	st.Conversation = normConversation(c)
	subj, err := s.Subject(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "Subject: returns the subject whose address is addr")
	st.Subject = normSubject(subj)
	_, st.NewSubject = s.Subject(t.Context(), addr(tenantA, userC))
	return st
}

func testCancelled(t *testing.T, newStore factory) {
	type fixture struct {
		in  store.Appended
		out store.Message
	}
	newMsg := text("wamid.in.2", addr(tenantA, userA), "¿sigue ahí?", 60)
	newMsg.Sender = channel.Profile{Name: "Otra", Locale: "qu"}
	tests := []struct {
		name string
		call func(ctx context.Context, s store.ConversationStore, f fixture) error
		// after checks more than the snapshot; may change the store.
		after func(t *testing.T, s store.ConversationStore)
	}{
		{"AppendInbound", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.AppendInbound(ctx, newMsg)
			return err
		}, func(t *testing.T, s store.ConversationStore) {
			a, err := s.AppendInbound(t.Context(), newMsg)
			require.NoError(t, err, "AppendInbound: a valid message is recorded")
			assert.False(t, a.Duplicate, "a call whose ctx is done changes nothing: the message was not recorded")
		}},
		{"AppendInbound from a new address", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.AppendInbound(ctx, text("wamid.in.9", addr(tenantA, userC), "hola", 61))
			return err
		}, nil},
		{"Append", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.Append(ctx, richReply(f.in.Conversation, f.in.Message.ID))
			return err
		}, nil},
		{"Message", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.Message(ctx, tenantA, f.in.Message.ID)
			return err
		}, nil},
		{"History", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.History(ctx, tenantA, f.in.Conversation.ID, store.HistoryQuery{Limit: 10})
			return err
		}, nil},
		{"Pending", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.Pending(ctx, store.PendingQuery{})
			return err
		}, nil},
		{"SetProcessing", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			return s.SetProcessing(ctx, tenantA, f.in.Message.ID, store.Processing{State: store.ProcessDone})
		}, nil},
		{"UpdateDelivery by id", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.UpdateDelivery(ctx, tenantA, store.DeliveryUpdate{ID: f.out.ID, ProviderID: "wamid.out.1", State: channel.Read})
			return err
		}, nil},
		{"UpdateDelivery by provider id", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.UpdateDelivery(ctx, tenantA, store.DeliveryUpdate{ProviderID: "wamid.out.0", State: channel.Read})
			return err
		}, nil},
		{"OpenConversation", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.OpenConversation(ctx, addr(tenantA, userC))
			return err
		}, nil},
		{"Conversation", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.Conversation(ctx, tenantA, f.in.Conversation.ID)
			return err
		}, nil},
		{"SetHandoff", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.SetHandoff(ctx, tenantA, f.in.Conversation.ID, store.Handoff{Owner: store.OwnerHuman, Operator: "luis"})
			return err
		}, nil},
		{"Subject", func(ctx context.Context, s store.ConversationStore, f fixture) error {
			_, err := s.Subject(ctx, addr(tenantA, userA))
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			var f fixture
			m := text("wamid.in.1", addr(tenantA, userA), "hola", 0)
			m.Sender = channel.Profile{Name: "Ana", Phone: "51900000001"}
			f.in = receive(t, s, m)
			sent := reply(t, s, f.in.Message, "hola")
			_, err := s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ID: sent.ID, ProviderID: "wamid.out.0", State: channel.Sent})
			require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
			f.out = reply(t, s, f.in.Message, "¿en qué te ayudo?")
			before := snapshot(t, s, f.in.Conversation.ID)
			require.ErrorIs(t, before.NewSubject, store.ErrNotFound, "Subject: returns ErrNotFound when no subject is known at addr")

			err = tt.call(cancelled(t), s, f)
			require.ErrorIs(t, err, context.Canceled, "when ctx is done before the store commits, the method returns an error wrapping ctx.Err()")
			assert.Equal(t, before, snapshot(t, s, f.in.Conversation.ID), "when ctx is done before the store commits, the method changes nothing")
			if tt.after != nil {
				tt.after(t, s)
			}
		})
	}
}

// Copies

// copied returns the inbound message of the Copies clauses, which holds
// pointers; richReply builds their reply.
func copied() channel.Message { return quoting("wamid.in.1", addr(tenantA, userA), 0) }

// scribble writes through every pointer and slice of m.
func scribble(m *store.Message) {
	if m.Inbound != nil {
		m.Inbound.Text = "scribbled"
		if m.Inbound.Context != nil {
			m.Inbound.Context.MessageID = "scribbled"
		}
		if m.Inbound.Referral != nil {
			m.Inbound.Referral.Headline = "scribbled"
		}
		m.Inbound.Sender.Name = "scribbled"
	}
	for i := range m.Parts {
		p := &m.Parts[i]
		p.Text = "scribbled"
		for j := range p.Opaque.Data {
			p.Opaque.Data[j] ^= 0xff
		}
		if p.ToolCall != nil {
			p.ToolCall.Name = "scribbled"
			for j := range p.ToolCall.Args {
				p.ToolCall.Args[j] = 'x'
			}
		}
		if p.ToolResult != nil {
			p.ToolResult.Content = "scribbled"
		}
	}
	if m.Outbound != nil {
		m.Outbound.Text = "scribbled"
		if in := m.Outbound.Interactive; in != nil {
			in.Header = "scribbled"
			for j := range in.Buttons {
				in.Buttons[j].Title = "scribbled"
			}
		}
	}
}

func testCopiesIn(t *testing.T, newStore factory) {
	s := newStore(t)
	m := copied()
	a := receive(t, s, m)
	m.Text = "scribbled"
	m.Context.MessageID = "scribbled"
	m.Referral.Headline = "scribbled"
	const c = "values passed in are copied: changing them after the call does not change what the store keeps"
	got := message(t, s, tenantA, a.Message.ID)
	require.NotNil(t, got.Inbound, c)
	assert.Equal(t, normInbound(copied()), normInbound(*got.Inbound), c+" (AppendInbound)")

	in := richReply(a.Conversation, a.Message.ID)
	r, err := s.Append(t.Context(), in)
	require.NoError(t, err, "Append: records a valid assistant reply")
	scribble(&in)
	want := richReply(a.Conversation, a.Message.ID)
	want.ID = r.ID
	assert.Equal(t, normMessage(want), normMessage(message(t, s, tenantA, r.ID)), c+" (Append)")
}

func testCopiesOut(t *testing.T, newStore factory) {
	s := newStore(t)
	a := receive(t, s, copied())
	r, err := s.Append(t.Context(), richReply(a.Conversation, a.Message.ID))
	require.NoError(t, err, "Append: records a valid assistant reply")
	// The expected records are built afresh: the ones returned may share
	// memory with the store, which is what this clause checks.
	m := copied()
	wantIn := a.Message
	wantIn.Inbound = &m
	wantOut := richReply(a.Conversation, a.Message.ID)
	wantOut.ID = r.ID
	in, out := normMessage(wantIn), normMessage(wantOut)
	require.Equal(t, in, normMessage(a.Message), "AppendInbound: the record's Inbound is the message as received, field for field")
	require.Equal(t, out, normMessage(r), "Append: returns the record field for field as given, with ID and Turn assigned")

	const c = "values returned belong to the caller: changing them does not change what the store keeps"
	check := func(how string) {
		t.Helper()
		assert.Equal(t, in, normMessage(message(t, s, tenantA, a.Message.ID)), c+" ("+how+")")
		assert.Equal(t, out, normMessage(message(t, s, tenantA, r.ID)), c+" ("+how+")")
		assert.Equal(t, []store.Message{in, out}, normMessages(history(t, s, tenantA, a.Conversation.ID, store.HistoryQuery{})), c+" ("+how+")")
	}
	scribble(&a.Message)
	scribble(&r)
	check("records returned by AppendInbound and Append")

	for _, id := range []store.MessageID{a.Message.ID, r.ID} {
		m := message(t, s, tenantA, id)
		scribble(&m)
	}
	check("records returned by Message")

	h := history(t, s, tenantA, a.Conversation.ID, store.HistoryQuery{})
	for i := range h {
		scribble(&h[i])
	}
	if len(h) > 0 {
		h[0] = store.Message{}
	}
	check("records returned by History")

	p := pending(t, s, store.PendingQuery{})
	for i := range p {
		scribble(&p[i])
	}
	check("records returned by Pending")

	u, err := s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ID: r.ID, State: channel.Sent, Time: at(40)})
	require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	scribble(&u)
	out.Delivery = store.Delivery{State: channel.Sent, UpdatedAt: at(40)}
	check("records returned by UpdateDelivery")

	dup, err := s.AppendInbound(t.Context(), copied())
	require.NoError(t, err, "AppendInbound: a duplicate is not an error")
	scribble(&dup.Message)
	check("records returned by AppendInbound for a duplicate")
}

// racing calls f(0) ... f(n-1) from n goroutines released at the same
// moment, and returns when all are done.
func racing(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}
