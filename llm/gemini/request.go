package gemini

import (
	"encoding/json"
	"fmt"

	"google.golang.org/genai"

	"github.com/wagent/wagent/llm"
)

// translate turns req into the model, contents and config of a
// generateContent call.
func (p *Provider) translate(req *llm.Request) (string, []*genai.Content, *genai.GenerateContentConfig, error) {
	model := req.Model
	if model == "" {
		model = p.model
	}
	cfg := &genai.GenerateContentConfig{MaxOutputTokens: int32(req.MaxOutputTokens)}
	if req.Temperature != nil {
		t := float32(*req.Temperature)
		cfg.Temperature = &t
	}
	if req.System != "" {
		cfg.SystemInstruction = &genai.Content{Parts: []*genai.Part{{Text: req.System}}}
	}
	contents := make([]*genai.Content, 0, len(req.Messages))
	for i, m := range req.Messages {
		switch m.Role {
		case llm.User:
			c := &genai.Content{Role: genai.RoleUser}
			for j, part := range m.Parts {
				switch part.Kind {
				case llm.KindText:
					c.Parts = append(c.Parts, &genai.Part{Text: part.Text})
				case llm.KindImage, llm.KindAudio, llm.KindDocument:
					if len(part.Data) > 0 {
						c.Parts = append(c.Parts, &genai.Part{InlineData: &genai.Blob{MIMEType: part.MIMEType, Data: part.Data}})
					} else if part.URL != "" {
						c.Parts = append(c.Parts, &genai.Part{FileData: &genai.FileData{MIMEType: part.MIMEType, FileURI: part.URL}})
					} else {
						return "", nil, nil, fmt.Errorf("gemini: message %d part %d: media needs Data or URL", i, j)
					}
				default:
					return "", nil, nil, fmt.Errorf("gemini: message %d part %d: a user message cannot hold a %q part", i, j, part.Kind)
				}
			}
			contents = append(contents, c)
		case llm.Assistant:
			c := &genai.Content{Role: genai.RoleModel}
			for _, part := range m.Parts {
				var gp *genai.Part
				switch part.Kind {
				case llm.KindText:
					gp = &genai.Part{Text: part.Text}
				case llm.KindReasoning:
					gp = &genai.Part{Text: part.Text, Thought: true}
				case llm.KindToolCall:
					tc := part.ToolCall
					if tc == nil {
						continue
					}
					fc := &genai.FunctionCall{Name: tc.Name}
					if !tc.Synthetic {
						fc.ID = tc.ID
					}
					if len(tc.Args) > 0 {
						if err := json.Unmarshal(tc.Args, &fc.Args); err != nil {
							fc.Args = map[string]any{}
						}
					}
					gp = &genai.Part{FunctionCall: fc}
				default:
					continue
				}
				if part.Opaque.Provider == Name {
					gp.ThoughtSignature = part.Opaque.Data
				}
				c.Parts = append(c.Parts, gp)
			}
			if len(c.Parts) > 0 {
				contents = append(contents, c)
			}
		case llm.ToolRole:
			c := &genai.Content{Role: genai.RoleUser}
			for _, part := range m.Parts {
				r := part.ToolResult
				if part.Kind != llm.KindToolResult || r == nil {
					continue
				}
				c.Parts = append(c.Parts, &genai.Part{FunctionResponse: &genai.FunctionResponse{
					ID: callID(req, r.CallID), Name: r.Name, Response: resultObject(r),
				}})
			}
			contents = append(contents, c)
		default:
			return "", nil, nil, fmt.Errorf("gemini: message %d: unknown role %q", i, m.Role)
		}
	}
	if len(req.Tools) > 0 {
		tool := &genai.Tool{}
		for _, t := range req.Tools {
			fd := &genai.FunctionDeclaration{Name: t.Name, Description: t.Description}
			if len(t.Parameters) > 0 {
				s, err := schema(t.Parameters)
				if err != nil {
					return "", nil, nil, fmt.Errorf("gemini: tool %q: %w", t.Name, err)
				}
				fd.ParametersJsonSchema = s
			}
			tool.FunctionDeclarations = append(tool.FunctionDeclarations, fd)
		}
		cfg.Tools = []*genai.Tool{tool}
		switch req.ToolChoice {
		case llm.ToolAuto:
		case llm.ToolNone:
			cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeNone}}
		case llm.ToolRequired:
			cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeAny}}
		default:
			return "", nil, nil, fmt.Errorf("gemini: unknown tool choice %q", req.ToolChoice)
		}
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

// callID returns the id to send for a result: none when its call's id was
// synthesized.
func callID(req *llm.Request, id string) string {
	for _, m := range req.Messages {
		for _, c := range m.ToolCalls() {
			if c.ID == id && c.Synthetic {
				return ""
			}
		}
	}
	return id
}

// resultObject wraps a tool result as the object Gemini requires.
func resultObject(r *llm.ToolResult) map[string]any {
	var v any = r.Content
	if json.Valid([]byte(r.Content)) {
		_ = json.Unmarshal([]byte(r.Content), &v)
	}
	if r.IsError {
		return map[string]any{"error": v}
	}
	if obj, ok := v.(map[string]any); ok {
		return obj
	}
	return map[string]any{"output": v}
}

// schema decodes a JSON Schema and strips "$schema", which Gemini rejects.
func schema(raw json.RawMessage) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "$schema")
	}
	return v, nil
}
