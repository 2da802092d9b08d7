package gemini

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"google.golang.org/genai"

	"github.com/wagent/wagent/llm"
)

// Defaults of [Options].
const (
	// DefaultModel is the model used when Options.Model is empty.
	DefaultModel = "gemini-2.5-flash"
	// DefaultBaseURL is the Gemini API's URL.
	DefaultBaseURL = "https://generativelanguage.googleapis.com/"
	// DefaultAPIVersion is the API version used when Options.APIVersion is
	// empty. v1beta carries function-call ids, thought signatures and
	// JSON Schema parameters.
	DefaultAPIVersion = "v1beta"
)

// Name is the Name of every Provider of this package, and the
// Part.Opaque.Provider of the state it keeps on parts.
const Name = "gemini"

// Options configures a [Provider]. A nil *Options, like the zero value,
// uses the defaults.
type Options struct {
	// Model is the model, DefaultModel if empty. Request.Model overrides
	// it per call.
	Model string
	// BaseURL is the API's URL, DefaultBaseURL if empty; set it to reach a
	// gateway or a test server.
	BaseURL string
	// HTTPClient sends the requests; nil uses a new http.Client. Calls are
	// bounded by their context, so the client needs no Timeout. It is
	// copied, not modified.
	HTTPClient *http.Client
	// APIVersion is the API version, DefaultAPIVersion if empty.
	APIVersion string
}

// Provider is an [llm.Provider] and [llm.Streamer] over the Gemini API's
// generateContent and streamGenerateContent methods. Create it with [New].
// A Provider is safe for concurrent use.
type Provider struct {
	client *genai.Client
	model  string
}

var (
	_ llm.Provider = (*Provider)(nil)
	_ llm.Streamer = (*Provider)(nil)
)

// New returns a Provider that authenticates with apiKey, sent in the
// x-goog-api-key header. ctx is used only while the client is set up; New
// makes no network call and starts no goroutine. It fails on an empty key
// and a BaseURL that is not an absolute http or https URL.
//
// Everything comes from the arguments: the key, the base URL and the
// backend are set explicitly, so the environment variables the Gemini SDK
// otherwise reads (GEMINI_API_KEY, GOOGLE_API_KEY, GOOGLE_GEMINI_BASE_URL,
// GOOGLE_GENAI_USE_VERTEXAI...) have no effect. The SDK's own retries stay
// off, and so does its automatic continuation of interrupted answers: wrap
// the provider in [llm.Retry].
func New(ctx context.Context, apiKey string, opts *Options) (*Provider, error) {
	if apiKey == "" {
		return nil, errors.New("gemini: an API key is required")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.BaseURL == "" {
		// Set explicitly, so that the SDK does not read it from the
		// environment.
		o.BaseURL = DefaultBaseURL
	}
	if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("gemini: BaseURL must be an absolute http or https URL")
	}
	if o.APIVersion == "" {
		o.APIVersion = DefaultAPIVersion
	}
	hc := &http.Client{}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		hc = &c
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &transport{base: base}
	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:     apiKey,
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: hc,
		HTTPOptions: genai.HTTPOptions{
			BaseURL:    o.BaseURL,
			APIVersion: o.APIVersion,
		},
	})
	if err != nil {
		return nil, errors.New("gemini: the client could not be set up")
	}
	return &Provider{client: client, model: o.Model}, nil
}

// Name implements [llm.Provider]. It returns "gemini".
func (p *Provider) Name() string { return Name }

// Generate implements [llm.Provider] with one generateContent call. See the
// package documentation for how requests are translated and errors
// classified.
func (p *Provider) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	model, contents, cfg, err := p.translate(req)
	if err != nil {
		return nil, invalid(err)
	}
	c := &call{}
	resp, err := p.client.Models.GenerateContent(withCall(ctx, c), model, contents, cfg)
	if err != nil {
		return nil, classify(ctx, c, err)
	}
	var m merger
	if _, _, err := m.add(resp); err != nil {
		return nil, err
	}
	return m.response()
}
