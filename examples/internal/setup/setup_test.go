package setup

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// fakeAPI is a loopback model API: it records the requests and answers the
// scripted statuses first, then 200 with body.
type fakeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	statuses []int
}

func newFakeAPI(t *testing.T, body string, statuses ...int) *fakeAPI {
	f := &fakeAPI{statuses: statuses}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, r.Clone(context.Background()))
		f.bodies = append(f.bodies, string(b))
		status := http.StatusOK
		if len(f.statuses) > 0 {
			status, f.statuses = f.statuses[0], f.statuses[1:]
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status != http.StatusOK {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE","type":"server_error"}}`)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) got() ([]*http.Request, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.bodies
}

const openaiAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1739321024,"model":"gpt-test",
	"choices":[{"index":0,"message":{"role":"assistant","content":"hello from openai"},"finish_reason":"stop"}],
	"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`

const geminiAnswer = `{"candidates":[{"content":{"role":"model","parts":[{"text":"hello from gemini"}]},"finishReason":"STOP","index":0}],
	"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8},"modelVersion":"gemini-test"}`

func ask(t *testing.T, p llm.Provider) string {
	t.Helper()
	resp, err := p.Generate(t.Context(), &llm.Request{Messages: []llm.Message{llm.UserText("hi")}})
	require.NoError(t, err)
	return resp.Message.Text()
}

// fastRetry keeps retries in tests short.
var fastRetry = &llm.RetryOptions{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}

func TestNewModelChoice(t *testing.T) {
	fallback := llmtest.NewScripted(llmtest.Reply("offline"))
	tests := []struct {
		name     string
		env      map[string]string
		fallback llm.Provider
		kind     string
	}{
		{"nothing set: the caller's fallback", nil, fallback, "fallback"},
		{"nothing set, no fallback: echo", nil, nil, "echo"},
		{"LLM=echo wins over the fallback", map[string]string{"LLM": "echo"}, fallback, "echo"},
		{"LLM is case-insensitive", map[string]string{"LLM": " Echo "}, fallback, "echo"},
		{"LLM=echo wins over a key", map[string]string{"LLM": "echo", "OPENAI_API_KEY": "sk-test"}, nil, "echo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewModel(t.Context(), env(tt.env), &Options{Fallback: tt.fallback})
			require.NoError(t, err)
			assert.Equal(t, tt.kind, m.Kind)
			switch tt.kind {
			case "fallback":
				assert.Same(t, fallback, m.Provider)
				assert.Equal(t, "scripted", m.Description)
			case "echo":
				assert.Equal(t, "echo: hi", ask(t, m.Provider))
			}
		})
	}
}

func TestNewModelOpenAI(t *testing.T) {
	tests := []struct {
		name    string
		env     func(url string) map[string]string
		auth    string
		model   string
		retries int
	}{
		{"chosen by OPENAI_API_KEY", func(url string) map[string]string {
			return map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url, "OPENAI_MODEL": "gpt-test", "GEMINI_API_KEY": "g-test"}
		}, "Bearer sk-test", "gpt-test", 0},
		{"chosen by OPENAI_BASE_URL alone: a local server", func(url string) map[string]string {
			return map[string]string{"OPENAI_BASE_URL": url}
		}, "", "gpt-4.1-mini", 0},
		{"LLM=openai, retried when unavailable", func(url string) map[string]string {
			return map[string]string{"LLM": "openai", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url, "OPENAI_MODEL": "gpt-test"}
		}, "Bearer sk-test", "gpt-test", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var statuses []int
			for range tt.retries {
				statuses = append(statuses, http.StatusServiceUnavailable)
			}
			api := newFakeAPI(t, openaiAnswer, statuses...)
			m, err := NewModel(t.Context(), env(tt.env(api.URL)), &Options{Fallback: llmtest.Echo{}, Retry: fastRetry})
			require.NoError(t, err)
			assert.Equal(t, "openai", m.Kind)
			assert.Equal(t, "openai "+tt.model, m.Description)
			assert.Equal(t, "hello from openai", ask(t, m.Provider))
			reqs, bodies := api.got()
			require.Len(t, reqs, 1+tt.retries, "wrapped in llm.Retry")
			assert.Equal(t, "/chat/completions", reqs[0].URL.Path)
			auth := reqs[0].Header.Get("Authorization")
			if tt.auth == "" {
				assert.True(t, auth == "" || auth == "Bearer ", "no key sent: %q", auth)
			} else {
				assert.Equal(t, tt.auth, auth)
			}
			var body struct {
				Model string `json:"model"`
			}
			require.NoError(t, json.Unmarshal([]byte(bodies[0]), &body))
			assert.Equal(t, tt.model, body.Model)
		})
	}
}

func TestNewModelGemini(t *testing.T) {
	tests := []struct {
		name    string
		env     func(url string) map[string]string
		model   string
		retries int
	}{
		{"chosen by GEMINI_API_KEY", func(url string) map[string]string {
			return map[string]string{"GEMINI_API_KEY": "g-test", "GEMINI_BASE_URL": url, "GEMINI_MODEL": "gemini-test"}
		}, "gemini-test", 0},
		{"LLM=gemini wins over an OpenAI key, retried when unavailable", func(url string) map[string]string {
			return map[string]string{"LLM": "gemini", "GEMINI_API_KEY": "g-test", "GEMINI_BASE_URL": url, "OPENAI_API_KEY": "sk-test"}
		}, "gemini-2.5-flash", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var statuses []int
			for range tt.retries {
				statuses = append(statuses, http.StatusServiceUnavailable)
			}
			api := newFakeAPI(t, geminiAnswer, statuses...)
			m, err := NewModel(t.Context(), env(tt.env(api.URL)), &Options{Retry: fastRetry})
			require.NoError(t, err)
			assert.Equal(t, "gemini", m.Kind)
			assert.Equal(t, "gemini "+tt.model, m.Description)
			assert.Equal(t, "hello from gemini", ask(t, m.Provider))
			reqs, _ := api.got()
			require.Len(t, reqs, 1+tt.retries, "wrapped in llm.Retry")
			assert.Equal(t, "/v1beta/models/"+tt.model+":generateContent", reqs[0].URL.Path)
			assert.Equal(t, "g-test", reqs[0].Header.Get("X-Goog-Api-Key"))
		})
	}
}

func TestNewModelErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown LLM", map[string]string{"LLM": "eliza"}, "LLM=eliza: use openai, gemini or echo"},
		{"openai without a key", map[string]string{"LLM": "openai", "GEMINI_API_KEY": "g"}, "LLM=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)"},
		{"gemini without a key", map[string]string{"LLM": "gemini", "OPENAI_API_KEY": "sk-secret"}, "LLM=gemini needs GEMINI_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewModel(t.Context(), env(tt.env), nil)
			require.ErrorIs(t, err, ErrConfig)
			assert.Equal(t, tt.want, err.Error())
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestOpenStore(t *testing.T) {
	addr := channel.Address{Channel: channel.WhatsApp, Tenant: "106540352242922", User: "16505551234"}
	t.Run("memory by default", func(t *testing.T) {
		st, err := OpenStore(t.Context(), env(nil), nil)
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, "memory", st.Kind)
		_, err = st.ConversationStore.OpenConversation(t.Context(), addr)
		require.NoError(t, err)
	})
	t.Run("the caller's default", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "default.db")
		st, err := OpenStore(t.Context(), env(nil), &Options{DefaultStore: "sqlite:" + path})
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, "sqlite", st.Kind)
		assert.FileExists(t, path)
	})
	t.Run("STORE wins over the default", func(t *testing.T) {
		st, err := OpenStore(t.Context(), env(map[string]string{"STORE": "memory"}), &Options{DefaultStore: "sqlite:/nonexistent/x.db"})
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, "memory", st.Kind)
	})
	t.Run("sqlite keeps what it recorded across a restart", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "wagent.db")
		e := env(map[string]string{"STORE": "sqlite:" + path})
		st, err := OpenStore(t.Context(), e, nil)
		require.NoError(t, err)
		assert.Equal(t, "sqlite "+path, st.Description)
		conv, err := st.ConversationStore.OpenConversation(t.Context(), addr)
		require.NoError(t, err)
		require.NoError(t, st.Close())

		st, err = OpenStore(t.Context(), e, nil)
		require.NoError(t, err)
		defer st.Close()
		again, err := st.ConversationStore.OpenConversation(t.Context(), addr)
		require.NoError(t, err)
		assert.Equal(t, conv.ID, again.ID)
	})
	t.Run("sqlite that cannot be opened is not a configuration error", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o600))
		_, err := OpenStore(t.Context(), env(map[string]string{"STORE": "sqlite:" + filepath.Join(dir, "file", "db")}), nil)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrConfig)
		assert.True(t, strings.HasPrefix(err.Error(), "STORE=sqlite:"), err.Error())
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("WAGENT_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("set WAGENT_POSTGRES_DSN to run against a PostgreSQL server")
		}
		st, err := OpenStore(t.Context(), env(map[string]string{"STORE": "postgres:" + dsn}), nil)
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, "postgres", st.Kind)
		assert.Equal(t, "postgres", st.Description, "never the DSN")
		_, err = st.ConversationStore.OpenConversation(t.Context(), addr)
		require.NoError(t, err)
	})
	t.Run("postgres that cannot be reached: no password in the error", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := OpenStore(ctx, env(map[string]string{"STORE": "postgres:postgres://wagent:hunter2secret@127.0.0.1:1/wagent?sslmode=disable&connect_timeout=2"}), nil)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrConfig)
		assert.NotContains(t, err.Error(), "hunter2secret")
		assert.True(t, strings.HasPrefix(err.Error(), "STORE=postgres: "), err.Error())
	})
}

func TestOpenStoreErrors(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"sqlite", "STORE=sqlite needs a file, as in sqlite:wagent.db"},
		{"sqlite:", "STORE=sqlite needs a file, as in sqlite:wagent.db"},
		{"postgres:", "STORE=postgres needs a DSN, as in postgres:postgres://user@localhost:5432/wagent"},
		{"memory:x", "STORE=memory takes nothing after it"},
		{"redis", "STORE=redis: use memory, sqlite:PATH or postgres:DSN"},
		{"postgress:postgres://u:topsecret@db/x", "STORE=postgress: use memory, sqlite:PATH or postgres:DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := OpenStore(t.Context(), env(map[string]string{"STORE": tt.spec}), nil)
			require.ErrorIs(t, err, ErrConfig)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestPassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u:pw@h/db":              "pw",
		"postgresql://u:pw2@h/db":           "pw2",
		"postgres://u@h/db":                 "",
		"host=h user=u password=pw3 dbname": "pw3",
		"host=h password='pw4'":             "pw4",
	} {
		assert.Equal(t, want, password(dsn), dsn)
	}
}
