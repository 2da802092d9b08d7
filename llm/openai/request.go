package openai

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"mime"
	"strconv"
	"strings"

	oai "github.com/sashabaranov/go-openai"

	"github.com/wagent/wagent/llm"
)

// partRef names part j of message i of a request.
type partRef struct{ msg, part int }

// emptyToolResult is sent for a tool result with no content, which the API
// would refuse.
const emptyToolResult = "(no output)"

// emptyParameters is sent for a tool without a parameters schema.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// translate turns req into a chat completion request. Audio parts are
// replaced by their transcripts; parts go-openai cannot express are
// returned as raw JSON, and placeholders stand for them in the request.
func (p *Provider) translate(req *llm.Request, transcripts map[partRef]string, nonce string) (oai.ChatCompletionRequest, []json.RawMessage, error) {
	creq := oai.ChatCompletionRequest{
		Model:               req.Model,
		MaxCompletionTokens: req.MaxOutputTokens,
	}
	if creq.Model == "" {
		creq.Model = p.model
	}
	if t := req.Temperature; t != nil {
		creq.Temperature = float32(*t)
		if creq.Temperature == 0 {
			// go-openai omits a zero temperature; this is zero for the API.
			creq.Temperature = math.SmallestNonzeroFloat32
		}
	}
	n := len(req.Messages)
	if req.System != "" {
		n++
	}
	creq.Messages = make([]oai.ChatCompletionMessage, 0, n)
	if req.System != "" {
		creq.Messages = append(creq.Messages, oai.ChatCompletionMessage{Role: oai.ChatMessageRoleSystem, Content: req.System})
	}
	var raw []json.RawMessage
	for i, m := range req.Messages {
		switch m.Role {
		case llm.User:
			msg, err := p.userMessage(i, m, transcripts, nonce, &raw)
			if err != nil {
				return creq, nil, err
			}
			creq.Messages = append(creq.Messages, msg)
		case llm.Assistant:
			if msg, ok := assistantMessage(m); ok {
				creq.Messages = append(creq.Messages, msg)
			}
		case llm.ToolRole:
			for _, part := range m.Parts {
				if part.Kind != llm.KindToolResult || part.ToolResult == nil {
					continue
				}
				creq.Messages = append(creq.Messages, toolMessage(part.ToolResult))
			}
		default:
			return creq, nil, fmt.Errorf("openai: message %d: unknown role %q", i, m.Role)
		}
	}
	if len(req.Tools) > 0 {
		creq.Tools = make([]oai.Tool, len(req.Tools))
		defs := make([]oai.FunctionDefinition, len(req.Tools))
		for i, t := range req.Tools {
			params := t.Parameters
			if len(params) == 0 {
				params = emptyParameters
			}
			defs[i] = oai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params}
			creq.Tools[i] = oai.Tool{Type: oai.ToolTypeFunction, Function: &defs[i]}
		}
		switch req.ToolChoice {
		case llm.ToolAuto:
		case llm.ToolNone, llm.ToolRequired:
			creq.ToolChoice = string(req.ToolChoice)
		default:
			return creq, nil, fmt.Errorf("openai: unknown tool choice %q", req.ToolChoice)
		}
	}
	if f := req.ResponseFormat; f != nil {
		if len(f.Schema) == 0 {
			creq.ResponseFormat = &oai.ChatCompletionResponseFormat{Type: oai.ChatCompletionResponseFormatTypeJSONObject}
		} else {
			schema, err := strictSchema(f.Schema)
			if err != nil {
				return creq, nil, err
			}
			name := f.Name
			if name == "" {
				name = "response"
			}
			creq.ResponseFormat = &oai.ChatCompletionResponseFormat{
				Type:       oai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &oai.ChatCompletionResponseFormatJSONSchema{Name: name, Schema: schema, Strict: true},
			}
		}
	}
	return creq, raw, nil
}

// userMessage translates a user message: one text part becomes a string,
// anything else a list of content parts.
func (p *Provider) userMessage(i int, m llm.Message, transcripts map[partRef]string, nonce string, raw *[]json.RawMessage) (oai.ChatCompletionMessage, error) {
	msg := oai.ChatCompletionMessage{Role: oai.ChatMessageRoleUser}
	if len(m.Parts) == 1 && m.Parts[0].Kind == llm.KindText {
		msg.Content = m.Parts[0].Text
		return msg, nil
	}
	msg.MultiContent = make([]oai.ChatMessagePart, 0, len(m.Parts))
	for j, part := range m.Parts {
		switch part.Kind {
		case llm.KindText:
			msg.MultiContent = append(msg.MultiContent, oai.ChatMessagePart{Type: oai.ChatMessagePartTypeText, Text: part.Text})
		case llm.KindImage:
			u := part.URL
			if len(part.Data) > 0 {
				u = dataURL(part.MIMEType, part.Data)
			}
			if u == "" {
				return msg, fmt.Errorf("openai: message %d part %d: an image needs Data or URL", i, j)
			}
			msg.MultiContent = append(msg.MultiContent, oai.ChatMessagePart{Type: oai.ChatMessagePartTypeImageURL, ImageURL: &oai.ChatMessageImageURL{URL: u}})
		case llm.KindAudio:
			if text, ok := transcripts[partRef{i, j}]; ok {
				if text != "" {
					msg.MultiContent = append(msg.MultiContent, oai.ChatMessagePart{Type: oai.ChatMessagePartTypeText, Text: text})
				}
				continue
			}
			format := audioFormat(part.MIMEType)
			if format == "" || len(part.Data) == 0 {
				return msg, fmt.Errorf("openai: message %d part %d: audio %q was not transcribed", i, j, part.MIMEType)
			}
			msg.MultiContent = append(msg.MultiContent, rawPart(raw, nonce, inputAudio{Type: "input_audio", InputAudio: audioData{
				Data: base64.StdEncoding.EncodeToString(part.Data), Format: format,
			}}))
		case llm.KindDocument:
			if mediaType(part.MIMEType) != "application/pdf" || len(part.Data) == 0 {
				return msg, fmt.Errorf("openai: message %d part %d: only PDF documents given in Data are supported, not %q", i, j, part.MIMEType)
			}
			name := part.Filename
			if name == "" {
				name = "document.pdf"
			}
			msg.MultiContent = append(msg.MultiContent, rawPart(raw, nonce, fileInput{Type: "file", File: fileData{
				Filename: name, FileData: dataURL("application/pdf", part.Data),
			}}))
		default:
			return msg, fmt.Errorf("openai: message %d part %d: a user message cannot hold a %q part", i, j, part.Kind)
		}
	}
	return msg, nil
}

// inputAudio is the content part of audio for models that take it.
type inputAudio struct {
	Type       string    `json:"type"`
	InputAudio audioData `json:"input_audio"`
}

type audioData struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// fileInput is the content part of a PDF file.
type fileInput struct {
	Type string   `json:"type"`
	File fileData `json:"file"`
}

type fileData struct {
	Filename string `json:"filename"`
	FileData string `json:"file_data"`
}

// rawPart records v as raw part and returns the placeholder that stands
// for it.
func rawPart(raw *[]json.RawMessage, nonce string, v any) oai.ChatMessagePart {
	b, err := json.Marshal(v)
	if err != nil { // the types above always marshal
		panic(err)
	}
	*raw = append(*raw, b)
	return oai.ChatMessagePart{Type: placeholderType, Text: nonce + ":" + strconv.Itoa(len(*raw)-1)}
}

// assistantMessage translates an assistant message of the history: its text
// and tool calls. Reasoning and provider state are not sent back; neither is
// a message left empty.
func assistantMessage(m llm.Message) (oai.ChatCompletionMessage, bool) {
	msg := oai.ChatCompletionMessage{Role: oai.ChatMessageRoleAssistant}
	var text strings.Builder
	for _, part := range m.Parts {
		switch part.Kind {
		case llm.KindText:
			text.WriteString(part.Text)
		case llm.KindToolCall:
			if c := part.ToolCall; c != nil {
				args := string(c.Args)
				if args == "" {
					args = "{}"
				}
				msg.ToolCalls = append(msg.ToolCalls, oai.ToolCall{
					ID: c.ID, Type: oai.ToolTypeFunction,
					Function: oai.FunctionCall{Name: c.Name, Arguments: args},
				})
			}
		}
	}
	msg.Content = text.String()
	return msg, msg.Content != "" || len(msg.ToolCalls) > 0
}

// toolMessage translates a tool result. An error result is sent as
// {"error": content}, the content as JSON if it is JSON and as a string
// otherwise, so that the model tells it from an output.
func toolMessage(r *llm.ToolResult) oai.ChatCompletionMessage {
	content := r.Content
	if r.IsError {
		var v any = content
		if json.Valid([]byte(content)) {
			v = json.RawMessage(content)
		}
		b, err := json.Marshal(map[string]any{"error": v})
		if err == nil {
			content = string(b)
		}
	}
	if content == "" {
		content = emptyToolResult
	}
	return oai.ChatCompletionMessage{Role: oai.ChatMessageRoleTool, ToolCallID: r.CallID, Content: content}
}

func dataURL(mimeType string, data []byte) string {
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	var b strings.Builder
	b.Grow(len("data:;base64,") + len(mimeType) + base64.StdEncoding.EncodedLen(len(data)))
	b.WriteString("data:")
	b.WriteString(mimeType)
	b.WriteString(";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	enc.Write(data)
	enc.Close()
	return b.String()
}

// mediaType returns the MIME type without parameters, in lower case.
func mediaType(t string) string {
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(t))
}

// audioFormat returns the input_audio format of an audio MIME type, "" when
// chat models do not take it.
func audioFormat(mimeType string) string {
	switch mediaType(mimeType) {
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return "wav"
	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3":
		return "mp3"
	}
	return ""
}

func newNonce() string {
	return strconv.FormatUint(rand.Uint64(), 36)
}

var errNoChoices = errors.New("openai: the response has no choices")
