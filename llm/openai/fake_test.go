package openai_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm/openai"
)

const testKey = "test-key"

// recorded is an answer of the API kept in testdata/*.response.json:
// status, headers, and either a JSON body or, for streams, the data of the
// server-sent events (a data: [DONE] event is added after them).
type recorded struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Events  []json.RawMessage `json:"events"`
	// Unterminated leaves out the data: [DONE] event of a stream.
	Unterminated bool `json:"unterminated"`
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

func (r recorded) write(w http.ResponseWriter) {
	for k, v := range r.Headers {
		w.Header().Set(k, v)
	}
	if r.Events != nil {
		w.Header().Set("Content-Type", "text/event-stream")
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
		w.Write([]byte("data: "))
		w.Write(compact(e))
		w.Write([]byte("\n\n"))
	}
	if !r.Unterminated {
		w.Write([]byte("data: [DONE]\n\n"))
	}
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// exchange is one request the fake expects and the answer it gives.
type exchange struct {
	// path is the expected URL path, "/v1/chat/completions" if empty.
	path string
	// request names the golden request body in testdata; for a multipart
	// request check is used instead.
	request string
	check   func(t *testing.T, r *http.Request)
	// response names the recorded answer in testdata.
	response string
}

// fake is an OpenAI API that expects a sequence of exchanges.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	exchanges []exchange
	bodies    [][]byte
}

// newFake starts a fake that answers the exchanges in order and fails the
// test on any other request.
func newFake(t *testing.T, exchanges ...exchange) *fake {
	f := &fake{t: t, exchanges: exchanges}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	f.mu.Lock()
	if len(f.exchanges) == 0 {
		f.mu.Unlock()
		t.Errorf("fake: unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":{"message":"unexpected request","type":"invalid_request_error"}}`, http.StatusTeapot)
		return
	}
	ex := f.exchanges[0]
	f.exchanges = f.exchanges[1:]
	f.mu.Unlock()

	path := ex.path
	if path == "" {
		path = "/v1/chat/completions"
	}
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, path, r.URL.Path)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"), "the API key is sent as a bearer token")
	if ex.check != nil {
		ex.check(t, r)
	} else {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
		if ex.request != "" {
			assert.JSONEq(t, string(golden(t, ex.request)), string(body), "wire JSON differs from testdata/%s", ex.request)
		}
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

func (f *fake) provider(t *testing.T, opts *openai.Options) *openai.Provider {
	t.Helper()
	o := openai.Options{}
	if opts != nil {
		o = *opts
	}
	o.BaseURL = f.srv.URL + "/v1"
	p, err := openai.New(testKey, &o)
	require.NoError(t, err)
	return p
}

// newFakeAt returns a provider for a server started by the test.
func newFakeAt(t *testing.T, url string) *openai.Provider {
	t.Helper()
	p, err := openai.New(testKey, &openai.Options{BaseURL: url})
	require.NoError(t, err)
	return p
}
