package gemini

import (
	"encoding/json"
	"fmt"

	"google.golang.org/genai"

	"github.com/wagent/wagent/llm"
)

// translate turns req into the model, contents and config of a
// generateContent call. It does not modify req: everything it sends is
// copied or freshly decoded.
func (p *Provider) translate(req *llm.Request) (string, []*genai.Content, *genai.GenerateContentConfig, error) {
	if req == nil {
		return "", nil, nil, fmt.Errorf("gemini: nil request")
	}
	model := req.Model
	if model == "" {
		model = p.model
	}
	if req.MaxOutputTokens < 0 || req.MaxOutputTokens > 1<<31-1 {
		return "", nil, nil, fmt.Errorf("gemini: MaxOutputTokens %d is out of range", req.MaxOutputTokens)
	}
	cfg := &genai.GenerateContentConfig{
		MaxOutputTokens: int32(req.MaxOutputTokens),
		// The SDK would otherwise send the request again by itself when an
		// answer stops with finish reason CONTINUATION, and reconnect a
		// broken stream: retries belong to llm.Retry.
		AutomaticContinuation: genai.Ptr(false),
	}
	if req.Temperature != nil {
		t := float32(*req.Temperature)
		cfg.Temperature = &t
	}
	if req.System != "" {
		cfg.SystemInstruction = &genai.Content{Role: genai.RoleUser, Parts: []*genai.Part{{Text: req.System}}}
	}
	calls := callIndex(req)
	contents := make([]*genai.Content, 0, len(req.Messages))
	for i, m := range req.Messages {
		switch m.Role {
		case llm.User:
			c, err := userContent(i, m)
			if err != nil {
				return "", nil, nil, err
			}
			contents = append(contents, c)
		case llm.Assistant:
			if c := modelContent(m); len(c.Parts) > 0 {
				contents = append(contents, c)
			}
		case llm.ToolRole:
			// All results of one turn go in one user content, also when
			// the caller split them over several tool messages.
			var c *genai.Content
			if n := len(contents); n > 0 && i > 0 && req.Messages[i-1].Role == llm.ToolRole {
				c = contents[n-1]
			} else {
				c = &genai.Content{Role: genai.RoleUser}
				contents = append(contents, c)
			}
			for j, part := range m.Parts {
				r := part.ToolResult
				if part.Kind != llm.KindToolResult || r == nil {
					return "", nil, nil, fmt.Errorf("gemini: message %d part %d: a tool message holds only tool results", i, j)
				}
				fr := &genai.FunctionResponse{Name: r.Name, Response: resultObject(r)}
				if call, ok := calls[r.CallID]; ok {
					if fr.Name == "" {
						fr.Name = call.Name
					}
					if !call.Synthetic {
						fr.ID = r.CallID
					}
				} else {
					fr.ID = r.CallID
				}
				if fr.Name == "" {
					return "", nil, nil, fmt.Errorf("gemini: message %d part %d: a tool result needs the name of its tool", i, j)
				}
				c.Parts = append(c.Parts, &genai.Part{FunctionResponse: fr})
			}
		default:
			return "", nil, nil, fmt.Errorf("gemini: message %d: unknown role %q", i, m.Role)
		}
	}
	if len(req.Tools) > 0 {
		// One tool holding every function: the API rejects several tools
		// of function declarations on some models.
		tool := &genai.Tool{}
		for _, t := range req.Tools {
			if t.Name == "" {
				return "", nil, nil, fmt.Errorf("gemini: a tool needs a name")
			}
			fd := &genai.FunctionDeclaration{Name: t.Name, Description: t.Description}
			if len(t.Parameters) > 0 {
				s, err := schema(t.Parameters)
				if err != nil {
					return "", nil, nil, fmt.Errorf("gemini: tool %q: parameters: %w", t.Name, err)
				}
				fd.ParametersJsonSchema = s
			}
			tool.FunctionDeclarations = append(tool.FunctionDeclarations, fd)
		}
		cfg.Tools = []*genai.Tool{tool}
	}
	switch req.ToolChoice {
	case llm.ToolAuto:
	case llm.ToolNone:
		if len(req.Tools) > 0 {
			cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeNone}}
		}
	case llm.ToolRequired:
		if len(req.Tools) == 0 {
			return "", nil, nil, fmt.Errorf("gemini: tool choice %q needs tools", req.ToolChoice)
		}
		cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeAny}}
	default:
		return "", nil, nil, fmt.Errorf("gemini: unknown tool choice %q", req.ToolChoice)
	}
	if f := req.ResponseFormat; f != nil {
		cfg.ResponseMIMEType = "application/json"
		if len(f.Schema) > 0 {
			s, err := schema(f.Schema)
			if err != nil {
				return "", nil, nil, fmt.Errorf("gemini: response schema: %w", err)
			}
			cfg.ResponseJsonSchema = s
		}
	}
	return model, contents, cfg, nil
}

// userContent translates a user message.
func userContent(i int, m llm.Message) (*genai.Content, error) {
	if len(m.Parts) == 0 {
		return nil, fmt.Errorf("gemini: message %d has no parts", i)
	}
	c := &genai.Content{Role: genai.RoleUser, Parts: make([]*genai.Part, 0, len(m.Parts))}
	for j, part := range m.Parts {
		switch part.Kind {
		case llm.KindText:
			c.Parts = append(c.Parts, &genai.Part{Text: part.Text})
		case llm.KindImage, llm.KindAudio, llm.KindDocument:
			if part.MIMEType == "" {
				return nil, fmt.Errorf("gemini: message %d part %d: media needs a MIME type", i, j)
			}
			switch {
			case len(part.Data) > 0:
				c.Parts = append(c.Parts, &genai.Part{InlineData: &genai.Blob{MIMEType: part.MIMEType, Data: part.Data}})
			case part.URL != "":
				c.Parts = append(c.Parts, &genai.Part{FileData: &genai.FileData{MIMEType: part.MIMEType, FileURI: part.URL}})
			default:
				return nil, fmt.Errorf("gemini: message %d part %d: media needs Data or URL", i, j)
			}
		default:
			return nil, fmt.Errorf("gemini: message %d part %d: a user message cannot hold a %q part", i, j, part.Kind)
		}
	}
	return c, nil
}

// modelContent translates an assistant message. The thought signatures of
// its parts are replayed byte for byte; reasoning of other providers is
// left out, as it means nothing to Gemini.
func modelContent(m llm.Message) *genai.Content {
	c := &genai.Content{Role: genai.RoleModel, Parts: make([]*genai.Part, 0, len(m.Parts))}
	for _, part := range m.Parts {
		own := part.Opaque.Provider == Name
		var gp *genai.Part
		switch part.Kind {
		case llm.KindText:
			gp = &genai.Part{Text: part.Text}
		case llm.KindReasoning:
			if !own {
				continue
			}
			gp = &genai.Part{Text: part.Text, Thought: true}
		case llm.KindToolCall:
			tc := part.ToolCall
			if tc == nil {
				continue
			}
			fc := &genai.FunctionCall{Name: tc.Name, Args: map[string]any{}}
			if !tc.Synthetic {
				fc.ID = tc.ID
			}
			if len(tc.Args) > 0 {
				// Arguments that are not a JSON object (written by another
				// provider's model) are sent as an empty object: the
				// result that answered them follows anyway.
				var args map[string]any
				if json.Unmarshal(tc.Args, &args) == nil && args != nil {
					fc.Args = args
				}
			}
			gp = &genai.Part{FunctionCall: fc}
		default:
			continue
		}
		if own && len(part.Opaque.Data) > 0 {
			gp.ThoughtSignature = part.Opaque.Data
		}
		c.Parts = append(c.Parts, gp)
	}
	return c
}

// callIndex returns the tool calls of req's assistant messages by ID.
func callIndex(req *llm.Request) map[string]llm.ToolCall {
	var idx map[string]llm.ToolCall
	for _, m := range req.Messages {
		if m.Role != llm.Assistant {
			continue
		}
		for _, p := range m.Parts {
			if p.Kind == llm.KindToolCall && p.ToolCall != nil {
				if idx == nil {
					idx = make(map[string]llm.ToolCall)
				}
				idx[p.ToolCall.ID] = *p.ToolCall
			}
		}
	}
	return idx
}

// resultObject wraps a tool result as the object Gemini requires: a JSON
// object result as it is, any other result as {"output": result}, an error
// as {"error": content}. Content that is not JSON is sent as a string.
func resultObject(r *llm.ToolResult) map[string]any {
	var v any = r.Content
	if json.Valid([]byte(r.Content)) {
		_ = json.Unmarshal([]byte(r.Content), &v)
	}
	if r.IsError {
		return map[string]any{"error": v}
	}
	if obj, ok := v.(map[string]any); ok && obj != nil {
		return obj
	}
	return map[string]any{"output": v}
}

// schema decodes a JSON Schema and strips "$schema", which Gemini rejects,
// wherever it appears.
func schema(raw json.RawMessage) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("gemini: the schema is not valid JSON")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("gemini: the schema is not a JSON object")
	}
	stripSchema(v, false)
	return v, nil
}

// stripSchema deletes "$schema" from the schema v and its subschemas. In a
// map of property names (named), the keys are names, not keywords, and are
// kept.
func stripSchema(v any, named bool) {
	switch v := v.(type) {
	case map[string]any:
		if !named {
			delete(v, "$schema")
		}
		for k, sub := range v {
			if !named && (k == "enum" || k == "const" || k == "default" || k == "examples") {
				continue // values, not schemas
			}
			stripSchema(sub, !named && (k == "properties" || k == "patternProperties" || k == "$defs" || k == "definitions" || k == "dependentSchemas"))
		}
	case []any:
		for _, sub := range v {
			stripSchema(sub, false)
		}
	}
}
