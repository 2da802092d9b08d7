package gemini_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm/gemini"
)

// testKey is the API key every fake expects in the x-goog-api-key header.
const testKey = "test-key"

// recorded is an answer of the API kept in testdata/*.response.json: the
// status, headers, and either a JSON body or, for streamGenerateContent,
// the data of the server-sent events.
type recorded struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Events  []json.RawMessage `json:"events"`
}

func golden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func loadRecorded(t testing.TB, name string) recorded {
	t.Helper()
	var r recorded
	require.NoError(t, json.Unmarshal(golden(t, name), &r), name)
	return r
}

// write sends r as the API does: JSON, or server-sent events separated by
// CRLF pairs as the Gemini API writes them.
func (r recorded) write(w http.ResponseWriter) {
	for k, v := range r.Headers {
		w.Header().Set(k, v)
	}
	if r.Events != nil {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if r.Events == nil {
		w.Write(r.Body)
		return
	}
	for _, e := range r.Events {
		var buf bytes.Buffer
		if err := json.Compact(&buf, e); err != nil {
			buf.Reset()
			buf.Write(e)
		}
		w.Write([]byte("data: "))
		w.Write(buf.Bytes())
		w.Write([]byte("\r\n\r\n"))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// normalize re-encodes a JSON document indented with sorted keys, so that
// two documents compare equal exactly when they mean the same, and a
// difference shows as a readable line diff.
func normalize(t testing.TB, what string, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("%s is not JSON: %v\n%s", what, err, b)
		return string(b)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return string(out)
}

// assertWire compares a request body with the golden request in testdata.
func assertWire(t testing.TB, name string, body []byte) {
	t.Helper()
	want := normalize(t, "testdata/"+name, golden(t, name))
	got := normalize(t, "the request body", body)
	assert.Equal(t, want, got, "the request's wire JSON differs from testdata/%s (- golden, + sent)", name)
}

// exchange is one request the fake expects and the answer it gives.
type exchange struct {
	// model is the model expected in the URL, gemini.DefaultModel if
	// empty.
	model string
	// stream expects streamGenerateContent?alt=sse instead of
	// generateContent.
	stream bool
	// request names the golden request body in testdata; empty skips the
	// comparison.
	request string
	// check, if set, also inspects the request.
	check func(t *testing.T, r *http.Request, body []byte)
	// response names the recorded answer in testdata.
	response string
	// handler, if set, answers instead of response.
	handler http.HandlerFunc
}

// fake is the Gemini API's generateContent and streamGenerateContent
// methods, expecting a sequence of exchanges and failing the test on any
// other request.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	exchanges []exchange
	bodies    [][]byte
}

func newFake(t *testing.T, exchanges ...exchange) *fake {
	f := &fake{t: t, exchanges: exchanges}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// notFound is the body of the API's answer to a request it does not know.
const notFound = `{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}`

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	body, err := io.ReadAll(r.Body)
	assert.NoError(t, err)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	if len(f.exchanges) == 0 {
		f.mu.Unlock()
		t.Errorf("fake: unexpected request %s %s", r.Method, r.URL)
		http.Error(w, notFound, http.StatusNotFound)
		return
	}
	ex := f.exchanges[0]
	f.exchanges = f.exchanges[1:]
	f.mu.Unlock()

	model := ex.model
	if model == "" {
		model = gemini.DefaultModel
	}
	method, query := "generateContent", ""
	if ex.stream {
		method, query = "streamGenerateContent", "alt=sse"
	}
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/v1beta/models/"+model+":"+method, r.URL.Path)
	assert.Equal(t, query, r.URL.RawQuery)
	assert.Equal(t, testKey, r.Header.Get("x-goog-api-key"), "the API key is sent in the x-goog-api-key header")
	assert.Empty(t, r.Header.Get("Authorization"), "an API key call carries no OAuth token")
	assert.Empty(t, r.URL.Query().Get("key"), "the API key is not sent in the URL")
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	if ex.request != "" {
		assertWire(t, ex.request, body)
	}
	if ex.check != nil {
		ex.check(t, r, body)
	}
	if ex.handler != nil {
		ex.handler(w, r)
		return
	}
	loadRecorded(t, ex.response).write(w)
}

// done fails the test if expected exchanges did not happen.
func (f *fake) done() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Empty(f.t, f.exchanges, "fake: expected requests were not made")
}

// body returns the body of the i-th request the fake received.
func (f *fake) body(i int) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Less(f.t, i, len(f.bodies), "fake: request %d was not made", i)
	return f.bodies[i]
}

func (f *fake) provider(t *testing.T, opts *gemini.Options) *gemini.Provider {
	t.Helper()
	var o gemini.Options
	if opts != nil {
		o = *opts
	}
	o.BaseURL = f.srv.URL
	p, err := gemini.New(t.Context(), testKey, &o)
	require.NoError(t, err)
	return p
}

// serveOnce starts a server that answers every request with status and
// body, and returns a provider pointed at it.
func serveOnce(t *testing.T, status int, headers map[string]string, body string) *gemini.Provider {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		if !strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	p, err := gemini.New(t.Context(), testKey, &gemini.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	return p
}
