package sealed_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/sealed"
)

// Personal data the tests look for at rest. ASCII, so that no encoding
// of the JSON the stores write can hide it from a byte search.
const (
	tenant        channel.TenantID = "tienda-sol"
	phone                          = "51987123456"
	otherUser                      = "51900000002"
	bodyText                       = "Quiero devolver la chompa que compre el martes"
	name                           = "Rosa Mamani Ccori"
	username                       = "rosita.mamani"
	mediaURL                       = "https://cdn.example.com/foto-secreta-rosa.jpg"
	filename                       = "dni-rosa-mamani.pdf"
	placeName                      = "Casa de Rosa en Surquillo"
	contactPhone                   = "51911222333"
	replyText                      = "Tu devolucion 7781 queda registrada"
	ticketTitle                    = "Devolucion chompa Rosa"
	ticketSummary                  = "La clienta pide devolver la chompa talla M"
	ticketNote                     = "Recogeremos la chompa en Surquillo el jueves"
	tagEmail                       = "rosa.mamani.ccori@example.com"
	tagOrder                       = "PED-99817"
)

var needles = []string{phone, bodyText, name, username, mediaURL, filename, placeName, contactPhone, replyText,
	ticketTitle, ticketSummary, ticketNote, tagEmail, tagOrder}

// caseStore is a store with tickets and tags, as the sealed and the
// built-in stores are.
type caseStore interface {
	store.ConversationStore
	store.TicketSystem
	store.Tagger
}

// casework opens a ticket with a note for the conversation of a and tags
// a's message, with the ticket and tag needles.
func casework(t *testing.T, s store.ConversationStore, a store.Appended) store.Ticket {
	t.Helper()
	ctx := t.Context()
	cs := s.(caseStore)
	tk, err := cs.CreateTicket(ctx, store.NewTicket{Tenant: tenant, Subject: a.Conversation.Subject, Conversation: a.Conversation.ID,
		Title: ticketTitle, Summary: ticketSummary})
	require.NoError(t, err)
	tk, err = cs.AddTicketNote(ctx, tenant, tk.Number, store.TicketNote{Author: "assistant", Text: ticketNote})
	require.NoError(t, err)
	require.NoError(t, cs.SetTags(ctx, tenant, a.Message.ID, store.Tags{Intent: "return", Sentiment: store.SentimentNeutral,
		OrderNumber: tagOrder, Product: "chompa", Email: tagEmail, Date: "2026-03-10", Source: "model", Time: t0}))
	return tk
}

// checkCasework asserts that s gives back what casework wrote.
func checkCasework(t *testing.T, s store.ConversationStore, a store.Appended, tk store.Ticket) {
	t.Helper()
	ctx := t.Context()
	cs := s.(caseStore)
	got, err := cs.Ticket(ctx, tenant, tk.Number)
	require.NoError(t, err)
	assert.Equal(t, ticketTitle, got.Title)
	assert.Equal(t, ticketSummary, got.Summary)
	require.Len(t, got.Notes, 1)
	assert.Equal(t, ticketNote, got.Notes[0].Text)
	list, err := cs.Tickets(ctx, store.TicketQuery{Tenant: tenant, Subject: a.Conversation.Subject})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, got, list[0])
	tags, err := cs.Tags(ctx, tenant, a.Message.ID)
	require.NoError(t, err)
	assert.Equal(t, store.Tags{Intent: "return", Sentiment: store.SentimentNeutral, OrderNumber: tagOrder, Product: "chompa",
		Email: tagEmail, Date: "2026-03-10", Source: "model", Time: t0}, tags)
}

func from(user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)}
}

var t0 = time.Date(2026, time.March, 14, 15, 9, 26, 0, time.UTC)

// personal appends messages holding every needle from the user phone.
func personal(t *testing.T, s store.ConversationStore) store.Appended {
	t.Helper()
	ctx := t.Context()
	m := channel.Message{ID: "wamid.p.1", From: from(phone), Time: t0, Type: channel.TypeText, Text: bodyText,
		Sender: channel.Profile{Name: name, Phone: phone, Username: username, Locale: "es_PE"}}
	a, err := s.AppendInbound(ctx, m)
	require.NoError(t, err)
	for i, in := range []channel.Message{
		{ID: "wamid.p.2", From: from(phone), Time: t0.Add(time.Second), Type: channel.TypeDocument,
			Media: &channel.Media{Kind: channel.Document, URL: mediaURL, Filename: filename, MIMEType: "application/pdf"}},
		{ID: "wamid.p.3", From: from(phone), Time: t0.Add(2 * time.Second), Type: channel.TypeLocation,
			Location: &channel.Location{Latitude: -12.1111, Longitude: -77.0222, Name: placeName}},
		{ID: "wamid.p.4", From: from(phone), Time: t0.Add(3 * time.Second), Type: channel.TypeContacts,
			Contacts: []channel.Contact{{Name: "Luis", Phones: []channel.Phone{contactPhone}}}},
	} {
		_, err := s.AppendInbound(ctx, in)
		require.NoError(t, err, "message %d", i)
	}
	_, err = s.Append(ctx, store.Message{Tenant: tenant, Conversation: a.Conversation.ID, Turn: a.Message.ID, Role: store.Assistant,
		Parts:    []llm.Part{llm.TextPart(replyText)},
		Outbound: &channel.Outbound{To: from(phone), Text: replyText, Correlation: "wagent:9"}})
	require.NoError(t, err)
	return a
}

// checkReadable asserts that s gives back what personal wrote.
func checkReadable(t *testing.T, s store.ConversationStore, a store.Appended) {
	t.Helper()
	ctx := t.Context()
	h, err := s.History(ctx, tenant, a.Conversation.ID, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, h, 5)
	assert.Equal(t, channel.Text(bodyText), h[0].Inbound.Text)
	assert.Equal(t, from(phone), h[0].Inbound.From, "the real address comes back")
	// Ordered by (Turn, ID): the reply follows the message it answers.
	require.Equal(t, store.Assistant, h[1].Role)
	assert.Equal(t, replyText, h[1].Parts[0].Text)
	assert.Equal(t, from(phone), h[1].Outbound.To)
	assert.Equal(t, mediaURL, h[2].Inbound.Media.URL)
	assert.Equal(t, placeName, h[3].Inbound.Location.Name)
	assert.Equal(t, []channel.Phone{contactPhone}, h[4].Inbound.Contacts[0].Phones)
	subj, err := s.Subject(ctx, from(phone))
	require.NoError(t, err)
	assert.Equal(t, channel.Profile{Name: name, Phone: phone, Username: username, Locale: "es_PE"}, subj.Profile)
	assert.Equal(t, from(phone), subj.Address)
	conv, err := s.Conversation(ctx, tenant, a.Conversation.ID)
	require.NoError(t, err)
	assert.Equal(t, from(phone), conv.Address)
}

// findNeedles returns the needles found in the bytes of every file of dir.
func findNeedles(t *testing.T, dir string) []string {
	t.Helper()
	var all []byte
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		all = append(all, b...)
	}
	require.NotEmpty(t, all)
	var found []string
	for _, n := range needles {
		if strings.Contains(string(all), n) {
			found = append(found, n)
		}
	}
	return found
}

func TestNoPlaintextInSQLiteFile(t *testing.T) {
	// The control: without sealing, the search finds every needle, so an
	// empty result below means something.
	plainDir := t.TempDir()
	plain := openSQLite(t, filepath.Join(plainDir, "plain.db"))
	casework(t, plain, personal(t, plain))
	require.NoError(t, plain.Close())
	assert.ElementsMatch(t, needles, findNeedles(t, plainDir), "the unsealed database holds the needles in clear")

	dir := t.TempDir()
	inner := openSQLite(t, filepath.Join(dir, "sealed.db"))
	ring := newRing(t, kOld.ID, kOld)
	ks := &seal.MemoryKeyStorage{}
	s := wrap(t, inner, ring, ks)
	a := personal(t, s)
	tk := casework(t, s, a)
	checkReadable(t, s, a)
	checkCasework(t, s, a, tk)
	// Before the checkpoint the content is in the log, after it in the
	// database file; look at both moments.
	assert.Empty(t, findNeedles(t, dir), "the sealed database files (with the write-ahead log) hold no personal data in clear")
	require.NoError(t, inner.Checkpoint(t.Context()))
	assert.Empty(t, findNeedles(t, dir), "the sealed database file holds no personal data in clear")
	require.NoError(t, inner.Close())
	assert.Empty(t, findNeedles(t, dir), "the sealed database file holds no personal data in clear")

	// Reopened, with the same keys, everything is there.
	again := wrap(t, openSQLite(t, filepath.Join(dir, "sealed.db")), ring, ks)
	checkReadable(t, again, a)
	checkCasework(t, again, a, tk)
}

func TestNoPlaintextInPostgres(t *testing.T) {
	dsn := os.Getenv("WAGENT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("WAGENT_POSTGRES_DSN is not set; skipping the PostgreSQL at-rest test")
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	open := func(t *testing.T) (*postgres.Store, func() string) {
		schema := fmt.Sprintf("sealed_test_%d", time.Now().UnixNano())
		inner, err := postgres.Open(ctx, dsn, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		t.Cleanup(func() {
			inner.Close()
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		})
		return inner, func() string { return dumpSchema(t, conn, schema) }
	}

	// The control: without sealing, the raw rows hold every needle.
	plain, plainDump := open(t)
	casework(t, plain, personal(t, plain))
	// bytea columns print as hex, so look for each needle in clear and
	// in hex.
	has := func(raw, n string) bool {
		return strings.Contains(raw, n) || strings.Contains(raw, hex.EncodeToString([]byte(n)))
	}
	raw := plainDump()
	for _, n := range needles {
		require.True(t, has(raw, n), "the unsealed rows hold the needle %q in clear", n)
	}

	inner, dump := open(t)
	s := wrap(t, inner, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{})
	a := personal(t, s)
	tk := casework(t, s, a)
	checkReadable(t, s, a)
	checkCasework(t, s, a, tk)
	raw = dump()
	require.Contains(t, raw, "wamid.p.1", "the dump holds the rows")
	for _, n := range needles {
		assert.False(t, has(raw, n), "the raw rows hold no personal data in clear (%q)", n)
	}
}

// dumpSchema returns every row of every table of schema as text.
func dumpSchema(t *testing.T, conn *pgx.Conn, schema string) string {
	t.Helper()
	ctx := t.Context()
	rows, err := conn.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	var all strings.Builder
	for _, tb := range tables {
		q := fmt.Sprintf("SELECT t::text FROM %s.%s t", pgx.Identifier{schema}.Sanitize(), pgx.Identifier{tb}.Sanitize())
		rows, err := conn.Query(ctx, q)
		require.NoError(t, err)
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, x := range texts {
			all.WriteString(x)
			all.WriteByte('\n')
		}
	}
	return all.String()
}

func TestInnerHoldsBlindAddresses(t *testing.T) {
	inner := memory.New(nil)
	ring := newRing(t, kOld.ID, kOld)
	s := wrap(t, inner, ring, &seal.MemoryKeyStorage{})
	a := personal(t, s)
	assert.Equal(t, from(phone), a.Conversation.Address, "callers get the real address")
	assert.Equal(t, from(phone), a.Message.Inbound.From)

	raw, err := inner.Conversation(t.Context(), tenant, a.Conversation.ID)
	require.NoError(t, err)
	assert.Equal(t, channel.UserID(ring.Index(string(tenant), string(channel.WhatsApp), phone)), raw.Address.User,
		"the inner store keeps the blind index of the user id")
	subj, err := inner.Subject(t.Context(), raw.Address)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprint(subj), phone)
	assert.NotContains(t, fmt.Sprint(subj), name)
	h, err := inner.History(t.Context(), tenant, a.Conversation.ID, store.HistoryQuery{})
	require.NoError(t, err)
	for _, m := range h {
		for _, n := range needles {
			assert.NotContains(t, fmt.Sprintf("%+v %+v %+v", m.Inbound, m.Parts, m.Outbound), n)
		}
	}

	// A subject is found by phone through the blind index of the phone.
	bsuid := channel.Message{ID: "wamid.b.1", From: from("bsuid-7f3a9c"), Time: t0, Type: channel.TypeText, Text: "hola",
		Sender: channel.Profile{Phone: "51955544433"}}
	b, err := s.AppendInbound(t.Context(), bsuid)
	require.NoError(t, err)
	got, err := s.Subject(t.Context(), from("51955544433"))
	require.NoError(t, err)
	assert.Equal(t, b.Conversation.Subject, got.ID)
	assert.Equal(t, from("bsuid-7f3a9c"), got.Address)
	assert.Equal(t, channel.Phone("51955544433"), got.Profile.Phone)
}

func TestHalfProfilesMerge(t *testing.T) {
	s := overMemory(t)
	ctx := t.Context()
	steps := []struct {
		sender channel.Profile
		want   channel.Profile
	}{
		{channel.Profile{Name: name}, channel.Profile{Name: name}},
		{channel.Profile{Phone: phone}, channel.Profile{Name: name, Phone: phone}},
		{channel.Profile{Username: username}, channel.Profile{Name: name, Phone: phone, Username: username}},
		{channel.Profile{Name: "Rosa M."}, channel.Profile{Name: "Rosa M.", Phone: phone, Username: username}},
		{channel.Profile{Name: "Rosa", Phone: "51900000077"}, channel.Profile{Name: "Rosa", Phone: "51900000077", Username: username}},
	}
	for i, st := range steps {
		_, err := s.AppendInbound(ctx, channel.Message{ID: channel.MessageID(fmt.Sprint("wamid.h.", i)), From: from("bsuid-1"),
			Time: t0.Add(time.Duration(i) * time.Second), Type: channel.TypeText, Text: "hola", Sender: st.sender})
		require.NoError(t, err)
		subj, err := s.Subject(ctx, from("bsuid-1"))
		require.NoError(t, err)
		assert.Equal(t, st.want, subj.Profile, "step %d: fields left empty keep their value", i)
	}
	_, err := s.Subject(ctx, from(phone))
	require.ErrorIs(t, err, store.ErrNotFound, "the old phone no longer finds the subject")
	_, err = s.Subject(ctx, from("51900000077"))
	require.NoError(t, err, "the new phone does")
}

func TestRotation(t *testing.T) {
	inner := memory.New(nil)
	ks := &seal.MemoryKeyStorage{}
	before := wrap(t, inner, newRing(t, kOld.ID, kOld), ks)
	a := personal(t, before)

	rotated := newRing(t, kNew.ID, kOld, kNew)
	lazy, err := sealed.New(inner, rotated, ks, &sealed.Options{NoRewrapOnRead: true})
	require.NoError(t, err)
	checkReadable(t, lazy, a) // old key decrypts
	assert.Equal(t, []seal.KeyID{kOld.ID}, wrappers(t, rotated, ks), "NoRewrapOnRead: reading leaves the wraps")

	// A new subject's key is wrapped by the primary.
	_, err = lazy.AppendInbound(t.Context(), channel.Message{ID: "wamid.n.1", From: from(otherUser), Time: t0, Type: channel.TypeText, Text: "hola"})
	require.NoError(t, err)
	assert.ElementsMatch(t, []seal.KeyID{kOld.ID, kNew.ID}, wrappers(t, rotated, ks), "new keys are wrapped by the primary")

	did, err := lazy.Rotate(t.Context(), from(phone))
	require.NoError(t, err)
	assert.True(t, did)
	assert.Equal(t, []seal.KeyID{kNew.ID}, uniq(wrappers(t, rotated, ks)), "Rotate rewraps with the primary")

	// The old key can now be retired.
	checkReadable(t, wrap(t, inner, newRing(t, kNew.ID, kNew), ks), a)
}

func TestRewrapOnRead(t *testing.T) {
	inner := memory.New(nil)
	ks := &seal.MemoryKeyStorage{}
	a := personal(t, wrap(t, inner, newRing(t, kOld.ID, kOld), ks))
	rotated := newRing(t, kNew.ID, kOld, kNew)
	checkReadable(t, wrap(t, inner, rotated, ks), a)
	assert.Equal(t, []seal.KeyID{kNew.ID}, wrappers(t, rotated, ks), "a read rewraps the key with the primary")
}

func wrappers(t *testing.T, ring *seal.Keyring, ks *seal.MemoryKeyStorage) []seal.KeyID {
	t.Helper()
	var ids []seal.KeyID
	for _, w := range ks.Keys() {
		id, err := ring.KeyOf(w)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

func uniq(ids []seal.KeyID) []seal.KeyID {
	var out []seal.KeyID
	for _, id := range ids {
		if len(out) == 0 || out[len(out)-1] != id {
			out = append(out, id)
		}
	}
	return out
}

func TestWrongKeyring(t *testing.T) {
	inner := memory.New(nil)
	ks := &seal.MemoryKeyStorage{}
	a := personal(t, wrap(t, inner, newRing(t, kOld.ID, kOld), ks))
	tests := []struct {
		name string
		ring *seal.Keyring
		want error
	}{
		{"another secret under the same id", newRing(t, kOld.ID, seal.Key{ID: kOld.ID, Secret: secret(9)}), seal.ErrTampered},
		{"a keyring without the key", newRing(t, kNew.ID, kNew), seal.ErrKeyUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := wrap(t, inner, tt.ring, ks)
			m, err := s.Message(t.Context(), tenant, a.Message.ID)
			require.ErrorIs(t, err, tt.want)
			assert.Zero(t, m, "never garbage")
			_, err = s.History(t.Context(), tenant, a.Conversation.ID, store.HistoryQuery{})
			require.ErrorIs(t, err, tt.want)
			_, err = s.Conversation(t.Context(), tenant, a.Conversation.ID)
			require.ErrorIs(t, err, tt.want)
			for _, n := range needles {
				assert.NotContains(t, err.Error(), n)
			}
		})
	}
}

// tampering is an inner store that changes records on the way out, as
// someone with write access to the database would.
type tampering struct {
	*memory.Store
	change func(m *store.Message)
}

func (s tampering) Message(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Message, error) {
	m, err := s.Store.Message(ctx, tenant, id)
	if err == nil {
		s.change(&m)
	}
	return m, err
}

func flip(s string, at int) string {
	rest := strings.TrimPrefix(s, "wgs1:")
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		panic(err)
	}
	b[(at%len(b)+len(b))%len(b)] ^= 0x01
	return "wgs1:" + base64.RawURLEncoding.EncodeToString(b)
}

func TestTampered(t *testing.T) {
	inner := memory.New(nil)
	ring, ks := newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}
	s := wrap(t, inner, ring, ks)
	a := personal(t, s)
	b, err := s.AppendInbound(t.Context(), channel.Message{ID: "wamid.other", From: channel.Address{Channel: channel.WhatsApp, Tenant: "ferreteria-luna", User: phone},
		Time: t0, Type: channel.TypeText, Text: "otra tienda"})
	require.NoError(t, err)
	h, err := inner.History(t.Context(), tenant, a.Conversation.ID, store.HistoryQuery{})
	require.NoError(t, err)
	sealedText := string(h[0].Inbound.Text)
	require.True(t, strings.HasPrefix(sealedText, "wgs1:"))

	tests := []struct {
		name   string
		id     store.MessageID
		tenant channel.TenantID
		change func(m *store.Message)
		want   error
	}{
		{"a flipped ciphertext byte", a.Message.ID, tenant, func(m *store.Message) { m.Inbound.Text = channel.Text(flip(string(m.Inbound.Text), -20)) }, seal.ErrTampered},
		{"a flipped nonce byte", a.Message.ID, tenant, func(m *store.Message) { m.Inbound.Text = channel.Text(flip(string(m.Inbound.Text), 50)) }, seal.ErrTampered},
		{"a flipped media byte", h[2].ID, tenant, func(m *store.Message) { m.Inbound.Media.ID = flip(m.Inbound.Media.ID, -1) }, seal.ErrTampered},
		{"a cut envelope", a.Message.ID, tenant, func(m *store.Message) { m.Inbound.Text = m.Inbound.Text[:12] }, seal.ErrMalformed},
		{"plaintext written around the store", a.Message.ID, tenant, func(m *store.Message) { m.Inbound.Text = "hola" }, seal.ErrMalformed},
		{"moved to another inbound record", h[3].ID, tenant, func(m *store.Message) { m.Inbound.Text = channel.Text(sealedText) }, seal.ErrTampered},
		{"moved to another field", h[1].ID, tenant, func(m *store.Message) { m.Outbound.Text = channel.Text(sealedText) }, seal.ErrTampered},
		{"moved to a part", h[1].ID, tenant, func(m *store.Message) { m.Parts[0].Text = sealedText }, seal.ErrTampered},
		{"moved to another tenant", b.Message.ID, "ferreteria-luna", func(m *store.Message) { m.Inbound.Text = channel.Text(sealedText) }, seal.ErrNoDataKey},
		{"the address of another subject", a.Message.ID, tenant, func(m *store.Message) {
			m.Inbound.From.User = channel.UserID(ring.Index(string(tenant), "whatsapp", "51900000999"))
		}, seal.ErrNoDataKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := sealed.New(tampering{inner, tt.change}, ring, ks, nil)
			require.NoError(t, err)
			m, err := ts.Message(t.Context(), tt.tenant, tt.id)
			require.ErrorIs(t, err, tt.want)
			assert.Zero(t, m, "never garbage")
			for _, n := range needles {
				assert.NotContains(t, err.Error(), n, "errors hold no personal data")
			}
		})
	}
	// The untouched records still open.
	got, err := s.Message(t.Context(), tenant, a.Message.ID)
	require.NoError(t, err)
	assert.Equal(t, channel.Text(bodyText), got.Inbound.Text)
}

func TestCryptoShred(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	inner := openSQLite(t, live)
	ring := newRing(t, kOld.ID, kOld)
	// The keys live apart from the data, as they must for shredding to
	// reach backups of the data (see the package documentation).
	ks := &seal.MemoryKeyStorage{}
	s := wrap(t, inner, ring, ks)
	a := personal(t, s)
	tk := casework(t, s, a)
	b, err := s.AppendInbound(ctx, channel.Message{ID: "wamid.keep", From: from(otherUser), Time: t0, Type: channel.TypeText, Text: "me quedo"})
	require.NoError(t, err)

	// A backup taken before the erasure: every wrapped row, byte for byte.
	require.NoError(t, inner.Checkpoint(ctx))
	backupFile := filepath.Join(t.TempDir(), "backup.db")
	raw, err := os.ReadFile(live)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(backupFile, raw, 0o600))
	backup := wrap(t, openSQLite(t, backupFile), ring, ks)
	checkReadable(t, backup, a) // the control: before the erasure the backup opens
	checkCasework(t, backup, a, tk)

	n, err := s.(store.Eraser).Erase(ctx, tenant, a.Conversation.Subject)
	require.NoError(t, err)
	assert.Equal(t, store.Erased{Subjects: 1, Conversations: 1, Messages: 5}, n)
	assert.Equal(t, 1, ks.Len(), "the erased subject's key is destroyed, the other subject's kept")

	// The backup, with the keyring and the key storage, no longer opens the
	// erased subject, and gives an error, not garbage.
	h, err := backup.History(ctx, tenant, a.Conversation.ID, store.HistoryQuery{})
	require.ErrorIs(t, err, sealed.ErrShredded)
	require.ErrorIs(t, err, seal.ErrNoDataKey)
	assert.Nil(t, h)
	_, err = backup.Message(ctx, tenant, a.Message.ID)
	require.ErrorIs(t, err, sealed.ErrShredded)
	_, err = backup.Conversation(ctx, tenant, a.Conversation.ID)
	require.ErrorIs(t, err, sealed.ErrShredded)
	_, err = backup.(store.Exporter).Export(ctx, tenant, a.Conversation.Subject)
	require.ErrorIs(t, err, sealed.ErrShredded)
	_, err = backup.Subject(ctx, from(phone))
	require.ErrorIs(t, err, sealed.ErrShredded)
	_, err = backup.Pending(ctx, store.PendingQuery{Tenant: tenant})
	require.ErrorIs(t, err, sealed.ErrShredded, "a listing that reaches a shredded record fails as a whole")
	bc := backup.(caseStore)
	_, err = bc.Ticket(ctx, tenant, tk.Number)
	require.ErrorIs(t, err, sealed.ErrShredded, "the erased subject's tickets are shredded with its key")
	_, err = bc.Tickets(ctx, store.TicketQuery{Tenant: tenant, Subject: a.Conversation.Subject})
	require.ErrorIs(t, err, sealed.ErrShredded)
	_, err = bc.Tags(ctx, tenant, a.Message.ID)
	require.ErrorIs(t, err, sealed.ErrShredded, "the erased subject's tags are shredded with its key")
	_, err = backup.(store.ConversationLister).Conversations(ctx, store.ConversationQuery{Tenant: tenant})
	require.ErrorIs(t, err, sealed.ErrShredded)
	_, err = s.(caseStore).Ticket(ctx, tenant, tk.Number)
	require.ErrorIs(t, err, store.ErrNotFound, "live, the erased subject's tickets are gone")

	// The other subject is untouched, in the backup and live.
	for _, st := range []store.ConversationStore{backup, s} {
		got, err := st.Message(ctx, tenant, b.Message.ID)
		require.NoError(t, err)
		assert.Equal(t, channel.Text("me quedo"), got.Inbound.Text)
	}

	// The erased subject may write again: a new key, a new subject.
	again, err := s.AppendInbound(ctx, channel.Message{ID: "wamid.p.9", From: from(phone), Time: t0, Type: channel.TypeText, Text: "volvi"})
	require.NoError(t, err)
	assert.NotEqual(t, a.Conversation.Subject, again.Conversation.Subject)
	_, err = backup.Message(ctx, tenant, a.Message.ID)
	require.ErrorIs(t, err, seal.ErrTampered, "the new key does not open what the destroyed one sealed")
	n, err = s.(store.Eraser).Erase(ctx, tenant, a.Conversation.Subject)
	require.NoError(t, err)
	assert.Zero(t, n, "erasing an erased subject erases nothing")
}

// bare is a store without optional capabilities.
type bare struct{ store.ConversationStore }

// eraseOnly has Eraser but not Exporter.
type eraseOnly struct {
	store.ConversationStore
	store.Eraser
}

// caps is which of the seven optional capabilities a store has.
type caps struct{ purger, eraser, exporter, leaser, lister, tickets, tagger bool }

func capsOf(s store.ConversationStore) caps {
	var c caps
	_, c.purger = store.Capability[store.Purger](s)
	_, c.eraser = store.Capability[store.Eraser](s)
	_, c.exporter = store.Capability[store.Exporter](s)
	_, c.leaser = store.Capability[store.Leaser](s)
	_, c.lister = store.Capability[store.ConversationLister](s)
	_, c.tickets = store.Capability[store.TicketSystem](s)
	_, c.tagger = store.Capability[store.Tagger](s)
	return c
}

func TestCapability(t *testing.T) {
	ring, ks := newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}
	mem := memory.New(nil)
	all := caps{true, true, true, true, true, true, true}
	tests := []struct {
		name  string
		inner store.ConversationStore
		want  caps
	}{
		{"every capability", mem, all},
		{"none", bare{mem}, caps{}},
		{"eraser without exporter cannot shred", eraseOnly{mem, mem}, caps{}},
		{"purger and leaser", struct {
			store.ConversationStore
			store.Purger
			store.Leaser
		}{mem, mem, mem}, caps{purger: true, leaser: true}},
		{"console and tickets", struct {
			store.ConversationStore
			store.ConversationLister
			store.TicketSystem
			store.Tagger
		}{mem, mem, mem, mem}, caps{lister: true, tickets: true, tagger: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sealed.New(tt.inner, ring, ks, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, capsOf(s), "the sealed store has the capabilities of its inner store")
			two, err := sealed.New(s, ring, ks, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, capsOf(two), "and so has a sealed store over a sealed store")
		})
	}
}

func TestUnsupported(t *testing.T) {
	s, err := sealed.New(bare{memory.New(nil)}, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}, nil)
	require.NoError(t, err)
	ctx := t.Context()
	calls := map[string]func() error{
		"Purge":        func() error { _, err := s.Purge(ctx, store.PurgeQuery{}); return err },
		"Erase":        func() error { _, err := s.Erase(ctx, tenant, "s1"); return err },
		"Export":       func() error { _, err := s.Export(ctx, tenant, "s1"); return err },
		"Lease":        func() error { _, err := s.Lease(ctx, tenant, "c1", "a", time.Second); return err },
		"Release":      func() error { return s.Release(ctx, tenant, "c1", "a") },
		"LeasePending": func() error { _, err := s.LeasePending(ctx, "a", time.Second, 1); return err },
		"Conversations": func() error {
			_, err := s.Conversations(ctx, store.ConversationQuery{Tenant: tenant})
			return err
		},
		"CreateTicket": func() error {
			_, err := s.CreateTicket(ctx, store.NewTicket{Tenant: tenant, Subject: "s1", Title: "x"})
			return err
		},
		"Ticket":  func() error { _, err := s.Ticket(ctx, tenant, "T-1001"); return err },
		"Tickets": func() error { _, err := s.Tickets(ctx, store.TicketQuery{Tenant: tenant, Subject: "s1"}); return err },
		"AddTicketNote": func() error {
			_, err := s.AddTicketNote(ctx, tenant, "T-1001", store.TicketNote{Author: "a", Text: "b"})
			return err
		},
		"SetTicketStatus": func() error { _, err := s.SetTicketStatus(ctx, tenant, "T-1001", store.TicketClosed); return err },
		"SetTags":         func() error { return s.SetTags(ctx, tenant, 1, store.Tags{Intent: "x"}) },
		"Tags":            func() error { _, err := s.Tags(ctx, tenant, 1); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, call(), errors.ErrUnsupported, "a capability the inner store lacks is ErrUnsupported")
		})
	}

	// An Eraser without an Exporter cannot destroy the subject's key.
	mem := memory.New(nil)
	e, err := sealed.New(eraseOnly{mem, mem}, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}, nil)
	require.NoError(t, err)
	a := personal(t, e)
	_, err = e.Erase(ctx, tenant, a.Conversation.Subject)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	_, err = e.Message(ctx, tenant, a.Message.ID)
	assert.NoError(t, err, "an unsupported erasure erases nothing")
}

// A ticket without a conversation needs the subject's key, found by an
// export: without an inner Exporter it is unsupported.
func TestTicketWithoutConversationNeedsExporter(t *testing.T) {
	mem := memory.New(nil)
	s, err := sealed.New(struct {
		store.ConversationStore
		store.TicketSystem
	}{mem, mem}, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}, nil)
	require.NoError(t, err)
	c, err := s.OpenConversation(t.Context(), from(phone))
	require.NoError(t, err)
	_, err = s.CreateTicket(t.Context(), store.NewTicket{Tenant: tenant, Subject: c.Subject, Title: "Devolución"})
	require.ErrorIs(t, err, errors.ErrUnsupported)
	tk, err := s.CreateTicket(t.Context(), store.NewTicket{Tenant: tenant, Subject: c.Subject, Conversation: c.ID, Title: "Devolución"})
	require.NoError(t, err, "with the conversation the subject's key is found")
	assert.Equal(t, "Devolución", tk.Title)
}

// Every value within the limits of package store can be kept sealed in
// the built-in stores, though sealing makes it longer; a value over them
// is refused before anything is sealed.
func TestLongestValuesSealed(t *testing.T) {
	for name, open := range map[string]func(*testing.T) store.ConversationStore{
		"memory": overMemory,
		"sqlite": overSQLite,
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t).(*sealed.Store)
			ctx := t.Context()
			c, err := s.OpenConversation(ctx, from(phone))
			require.NoError(t, err)
			title := strings.Repeat("é", store.MaxTicketTitle/2)
			summary := strings.Repeat("s", store.MaxTicketSummary)
			tk, err := s.CreateTicket(ctx, store.NewTicket{Tenant: tenant, Subject: c.Subject, Conversation: c.ID, Title: title, Summary: summary})
			require.NoError(t, err, "a title and a summary at their limits are kept sealed")
			assert.Equal(t, title, tk.Title)
			assert.Equal(t, summary, tk.Summary)
			note := strings.Repeat("n", store.MaxTicketNote)
			tk, err = s.AddTicketNote(ctx, tenant, tk.Number, store.TicketNote{Author: "ana", Text: note})
			require.NoError(t, err, "a note at its limit is kept sealed")
			require.NotEmpty(t, tk.Notes)
			assert.Equal(t, note, tk.Notes[len(tk.Notes)-1].Text)

			_, err = s.CreateTicket(ctx, store.NewTicket{Tenant: tenant, Subject: c.Subject, Conversation: c.ID, Title: title + "x"})
			require.ErrorIs(t, err, store.ErrInvalid, "a title over the limit is refused")
			assert.NotContains(t, err.Error(), title)
		})
	}
}

func TestNewInvalid(t *testing.T) {
	ring := newRing(t, kOld.ID, kOld)
	for name, f := range map[string]func() (*sealed.Store, error){
		"nil inner":   func() (*sealed.Store, error) { return sealed.New(nil, ring, &seal.MemoryKeyStorage{}, nil) },
		"nil keyring": func() (*sealed.Store, error) { return sealed.New(memory.New(nil), nil, &seal.MemoryKeyStorage{}, nil) },
		"nil storage": func() (*sealed.Store, error) { return sealed.New(memory.New(nil), ring, nil, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := f()
			require.ErrorIs(t, err, store.ErrInvalid)
			assert.Nil(t, s)
		})
	}
}

func TestKeyStorageFailure(t *testing.T) {
	s := wrap(t, memory.New(nil), newRing(t, kOld.ID, kOld), failing{})
	_, err := s.AppendInbound(t.Context(), channel.Message{ID: "wamid.1", From: from(phone), Type: channel.TypeText, Text: bodyText})
	require.ErrorIs(t, err, errDown)
	assert.NotContains(t, err.Error(), bodyText)
	assert.NotContains(t, err.Error(), phone)
}

var errDown = errors.New("key storage down")

type failing struct{}

func (failing) Get(context.Context, string, string) ([]byte, error) { return nil, errDown }
func (failing) Put(context.Context, string, string, []byte, []byte) ([]byte, error) {
	return nil, errDown
}
func (failing) Delete(context.Context, string, string) error { return errDown }
