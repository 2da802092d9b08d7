package openai

import (
	"context"
	"errors"
	"net/http"
	"strings"

	oai "github.com/sashabaranov/go-openai"

	"github.com/wagent/wagent/llm"
)

// Defaults of [Options].
const (
	// DefaultModel is the chat model used when Options.Model is empty: a
	// fast model that calls tools, reads images and honours temperature
	// on the Chat Completions API.
	DefaultModel = oai.GPT4Dot1Mini
	// DefaultBaseURL is OpenAI's API.
	DefaultBaseURL = "https://api.openai.com/v1"
	// DefaultTranscriptionModel transcribes audio parts when the chat
	// model does not take audio.
	DefaultTranscriptionModel = oai.Whisper1
	// DefaultName is the provider's Name when Options.Name is empty.
	DefaultName = "openai"
	// DefaultAzureAPIVersion is the api-version sent to Azure OpenAI when
	// AzureOptions.APIVersion is empty: the first generally available
	// version with structured outputs.
	DefaultAzureAPIVersion = "2024-10-21"
)

// Options configures a [Provider]. A nil *Options, like the zero value,
// uses the defaults.
type Options struct {
	// Model is the chat model, DefaultModel if empty. Request.Model
	// overrides it per call.
	Model string
	// BaseURL is the API's URL, DefaultBaseURL if empty. Point it at any
	// server that speaks the Chat Completions API: Ollama
	// ("http://localhost:11434/v1"), vLLM, a gateway. For Azure OpenAI it
	// is the resource's endpoint ("https://NAME.openai.azure.com").
	BaseURL string
	// Organization, if set, is sent as the OpenAI-Organization header.
	Organization string
	// HTTPClient sends the requests; nil uses a new http.Client. Calls
	// are bounded by their context, so the client needs no Timeout.
	HTTPClient *http.Client
	// TranscriptionModel transcribes audio parts the chat model cannot
	// take, DefaultTranscriptionModel if empty.
	TranscriptionModel string
	// AudioInput tells that the chat model takes audio parts itself
	// (gpt-4o-audio-preview): WAV and MP3 audio is then sent as is, and
	// only other formats are transcribed first. When false, every audio
	// part is transcribed with TranscriptionModel and sent as text.
	AudioInput bool
	// Name is the provider's Name, DefaultName if empty; set it to tell
	// OpenAI-compatible servers apart in logs ("ollama").
	Name string
	// Azure, if set, speaks to Azure OpenAI: the api-key header instead of
	// a bearer token, deployments in the URL and the api-version
	// parameter. BaseURL is then required.
	Azure *AzureOptions
}

// AzureOptions configures access to Azure OpenAI.
type AzureOptions struct {
	// APIVersion is the api-version parameter, DefaultAzureAPIVersion if
	// empty.
	APIVersion string
	// Deployments maps model names (Options.Model, Request.Model,
	// Options.TranscriptionModel) to deployment names. A model that is
	// not in it is taken as the deployment's name.
	Deployments map[string]string
}

// Provider is an [llm.Provider] and [llm.Streamer] over the Chat
// Completions API of OpenAI and compatible servers. Create it with [New].
// A Provider is safe for concurrent use.
type Provider struct {
	client             *oai.Client
	name               string
	model              string
	transcriptionModel string
	audioInput         bool
}

var (
	_ llm.Provider = (*Provider)(nil)
	_ llm.Streamer = (*Provider)(nil)
)

// New returns a Provider that authenticates with apiKey. The key may be
// empty only for a server that needs none (a local Ollama): set
// Options.BaseURL then. New makes no network call.
func New(apiKey string, opts *Options) (*Provider, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BaseURL == "" {
		if o.Azure != nil {
			return nil, errors.New("openai: Options.BaseURL is required with Options.Azure")
		}
		if apiKey == "" {
			return nil, errors.New("openai: an API key is required for OpenAI's API")
		}
		o.BaseURL = DefaultBaseURL
	}
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.TranscriptionModel == "" {
		o.TranscriptionModel = DefaultTranscriptionModel
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	var cfg oai.ClientConfig
	if az := o.Azure; az != nil {
		cfg = oai.DefaultAzureConfig(apiKey, strings.TrimRight(o.BaseURL, "/"))
		cfg.APIVersion = az.APIVersion
		if cfg.APIVersion == "" {
			cfg.APIVersion = DefaultAzureAPIVersion
		}
		deployments := make(map[string]string, len(az.Deployments))
		for k, v := range az.Deployments {
			deployments[k] = v
		}
		cfg.AzureModelMapperFunc = func(model string) string {
			if d, ok := deployments[model]; ok {
				return d
			}
			return model
		}
	} else {
		cfg = oai.DefaultConfig(apiKey)
		cfg.BaseURL = strings.TrimRight(o.BaseURL, "/")
	}
	cfg.OrgID = o.Organization
	cfg.HTTPClient = doer{client: o.HTTPClient}
	return &Provider{
		client:             oai.NewClientWithConfig(cfg),
		name:               o.Name,
		model:              o.Model,
		transcriptionModel: o.TranscriptionModel,
		audioInput:         o.AudioInput,
	}, nil
}

// Name implements [llm.Provider]: Options.Name, "openai" by default.
func (p *Provider) Name() string { return p.name }

// Generate implements [llm.Provider] with one chat completion, after
// transcribing the audio parts the model cannot take. See the package
// documentation for how requests are translated and errors classified.
func (p *Provider) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, p.ctxError(err)
	}
	c, creq, err := p.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.CreateChatCompletion(withCall(ctx, c), creq)
	if err != nil {
		return nil, p.classify(ctx, c, err)
	}
	return p.response(&resp)
}

// prepare transcribes what must be and translates req.
func (p *Provider) prepare(ctx context.Context, req *llm.Request) (*call, oai.ChatCompletionRequest, error) {
	transcripts, err := p.transcribeAll(ctx, req)
	if err != nil {
		return nil, oai.ChatCompletionRequest{}, err
	}
	c := &call{nonce: newNonce()}
	creq, raw, err := p.translate(req, transcripts, c.nonce)
	if err != nil {
		return nil, oai.ChatCompletionRequest{}, p.invalid(err)
	}
	c.raw = raw
	return c, creq, nil
}
