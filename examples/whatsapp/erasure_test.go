package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/examples/internal/pgtest"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// contact is a customer of the erasure test and what they write.
type contact struct {
	phone, name string
	texts       [2]string
}

var (
	rosa = contact{phone: "51987654321", name: "Rosa Quispe Mamani",
		texts: [2]string{"mi pedido ZX-4471 no llego a Miraflores", "Rosa-boleta-DNI-control-4419"}}
	juan = contact{phone: "51911122233", name: "Juan Perez Llosa",
		texts: [2]string{"Juan-consulta-envio-Arequipa-5520", "Juan-factura-RUC-control-7781"}}
)

// strings are what must be gone after the contact's erasure, or stay
// after someone else's: their texts, phone number and profile name.
func (c contact) strings() []string { return []string{c.texts[0], c.texts[1], c.phone, c.name} }

// wamidPhone is c's phone number as it appears inside c's wamids: the
// base64 of its first nine digits, which start on a three-byte boundary.
func (c contact) wamidPhone() string { return base64.StdEncoding.EncodeToString([]byte(c.phone[:9])) }

// wamid returns the n-th message id of c shaped as WhatsApp's: base64 of a
// protobuf-like record that holds the sender's phone number.
func (c contact) wamid(n int) string {
	b := append([]byte{0x1c, 0x18, byte(len(c.phone))}, c.phone...)
	b = append(b, 0x15, 0x02, 0x00, 0x12, 0x18, 0x14)
	b = append(b, fmt.Sprintf("3EB0CA7%013X", n)...)
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// delivery is the webhook of text from c, with c's profile name.
func (c contact) delivery(t *testing.T, n int, text string) []byte {
	t.Helper()
	body := whatsapptest.TextDelivery(phoneNumberID, c.phone, "", c.wamid(n), text, time.Now())
	name, err := json.Marshal(c.name)
	require.NoError(t, err)
	require.Equal(t, 1, bytes.Count(body, []byte(`"name":"Test User"`)), string(body))
	return bytes.Replace(body, []byte(`"name":"Test User"`), append([]byte(`"name":`), name...), 1)
}

// sentText is a message send recorded by the fake Graph API.
type sentText struct {
	To   string `json:"to"`
	Biz  string `json:"biz_opaque_callback_data"`
	Text struct {
		Body string `json:"body"`
	} `json:"text"`
}

// searcher reports where needle is stored: the files or tables holding it.
type searcher func(t *testing.T, needle string) []string

// TestErasureLeavesNothingOnDisk runs the bot on each durable store: two
// contacts write, one of them asks in chat for her data to be erased and
// confirms with the code she was sent; afterwards none of her message
// texts, her phone number or her profile name is in any file of the SQLite
// store or any table of the PostgreSQL database, while the other
// contact's data is all still there.
func TestErasureLeavesNothingOnDisk(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		erasureLeavesNothing(t, "sqlite:"+filepath.Join(dir, "wagent.db"), func(t *testing.T, needle string) []string {
			t.Helper()
			var found []string
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if bytes.Contains(data, []byte(needle)) {
					found = append(found, filepath.Base(path))
				}
				return nil
			})
			require.NoError(t, err)
			return found
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dbDSN := pgtest.FreshDatabase(t, "wagent_erasure_")
		erasureLeavesNothing(t, "postgres:"+dbDSN, func(t *testing.T, needle string) []string {
			t.Helper()
			return searchTables(t, dbDSN, needle)
		})
	})
}

// searchTables returns the tables of every schema of the database at dsn
// with a row whose text form holds needle, or its hex (as bytea prints).
func searchTables(t *testing.T, dsn, needle string) []string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1, 2`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, table string
		err := r.Scan(&schema, &table)
		return pgx.Identifier{schema, table}, err
	})
	require.NoError(t, err)
	require.NotEmpty(t, tables, "the store created its tables")
	var found []string
	for _, tb := range tables {
		var n int
		err := conn.QueryRow(ctx, "SELECT count(*) FROM "+tb.Sanitize()+" t WHERE position($1 in t::text) > 0 OR position($2 in t::text) > 0",
			needle, hex.EncodeToString([]byte(needle))).Scan(&n)
		require.NoError(t, err, tb.Sanitize())
		if n > 0 {
			found = append(found, fmt.Sprintf("%s.%s (%d rows)", tb[0], tb[1], n))
		}
	}
	return found
}

func erasureLeavesNothing(t *testing.T, storeSpec string, search searcher) {
	api := whatsapptest.NewServer(token, appSecret)
	defer api.Close()
	b := startBot(t, env(api.URL, map[string]string{"STORE": storeSpec, "ADMIN_TOKEN": adminToken}))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	sends := 0
	// say delivers text from c and waits for the n sends it causes.
	say := func(c contact, n int, text string, replies int) []sentText {
		t.Helper()
		b.deliver(t, c.delivery(t, n, text))
		sent, err := api.Wait(ctx, "send", sends+replies)
		require.NoError(t, err, b.stderr.String())
		require.Len(t, sent, sends+replies, "no other send")
		var out []sentText
		for _, r := range sent[sends:] {
			var m sentText
			require.NoError(t, json.Unmarshal(r.Body, &m))
			assert.Equal(t, c.phone, m.To)
			out = append(out, m)
		}
		sends += replies
		return out
	}

	// Each writes twice, in turns, and each message is answered (the echo
	// model): inbound, outbound and delivery records exist for both.
	var rosaReplies []sentText
	for i := range 2 {
		r := say(rosa, i+1, rosa.texts[i], 1)
		assert.Equal(t, "echo: "+rosa.texts[i], r[0].Text.Body)
		rosaReplies = append(rosaReplies, r[0])
		j := say(juan, i+1, juan.texts[i], 1)
		assert.Equal(t, "echo: "+juan.texts[i], j[0].Text.Body)
		if i == 0 {
			// The fake API numbers the sends: this is the second.
			b.deliver(t, whatsapptest.StatusDelivery(phoneNumberID, juan.phone, "wamid.FAKE000002", "delivered", j[0].Biz, 0, time.Now()))
		}
	}
	// Rosa's first reply, the first send, was delivered and read.
	b.deliver(t, whatsapptest.StatusDelivery(phoneNumberID, rosa.phone, "wamid.FAKE000001", "delivered", rosaReplies[0].Biz, 0, time.Now()))
	b.deliver(t, whatsapptest.StatusDelivery(phoneNumberID, rosa.phone, "wamid.FAKE000001", "read", rosaReplies[0].Biz, 0, time.Now()))

	// The search finds what is stored: without this, "not found" below
	// would prove nothing.
	for _, c := range []contact{rosa, juan} {
		for _, s := range append(c.strings(), c.wamidPhone()) {
			assert.NotEmpty(t, search(t, s), "before the erasure %q is stored", s)
		}
	}

	// Rosa asks for erasure: she is told the request was opened and sent
	// a code in her chat; she answers with it and is told it is done.
	texts := privacy.DefaultRequestTexts()["es"]
	asked := say(rosa, 3, "hola, quiero borrar mis datos por favor", 2)
	var code string
	codeText := texts.Code[:strings.Index(texts.Code, "{")] // "Tu código para confirmar..."
	for _, m := range asked {
		if strings.HasPrefix(m.Text.Body, codeText) {
			code = regexp.MustCompile(`\b[0-9]{6}\b`).FindString(m.Text.Body)
		}
	}
	require.Len(t, code, 6, "a six-digit code was sent in her chat: %+v", asked)
	done := say(rosa, 4, code, 1)
	assert.Equal(t, texts.Erased, done[0].Text.Body, "the erasure is confirmed")

	// The erasure empties SQLite's log as it ends: nothing of Rosa's
	// remains on disk while the bot runs on, and once it stopped. A real
	// wamid holds the sender's phone number in base64: gone too.
	for _, when := range []string{"while the bot runs", "once the bot stopped"} {
		if when == "once the bot stopped" {
			require.Equal(t, 0, b.stop(t), b.stderr.String())
		}
		for _, s := range append(rosa.strings(), rosa.wamidPhone()) {
			assert.Empty(t, search(t, s), "after Rosa's erasure, %s, %q is still stored", when, s)
		}
	}
	for _, s := range juan.strings() {
		assert.NotEmpty(t, search(t, s), "Juan's %q is untouched by Rosa's erasure", s)
	}

	// Logs are files too.
	logs := b.stderr.String()
	for _, s := range append(rosa.texts[:], rosa.name) {
		assert.NotContains(t, logs, s, "the bot's log holds Rosa's data")
	}
	if strings.Contains(logs, rosa.phone) {
		t.Logf("the bot's log holds Rosa's phone number")
	}
}
