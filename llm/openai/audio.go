package openai

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"path"
	"strings"

	oai "github.com/sashabaranov/go-openai"

	"github.com/wagent/wagent/llm"
)

// Transcribe returns the text spoken in audio, an audio part given in
// Data, using Options.TranscriptionModel. Generate calls it for the audio
// parts the chat model cannot take; hosts may call it to transcribe a voice
// note once and keep the text. Errors are classified as Generate's.
func (p *Provider) Transcribe(ctx context.Context, audio llm.Part) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", p.ctxError(err)
	}
	if audio.Kind != llm.KindAudio || len(audio.Data) == 0 {
		return "", p.invalid(errors.New("openai: transcription needs an audio part with Data"))
	}
	c := &call{}
	resp, err := p.client.CreateTranscription(withCall(ctx, c), oai.AudioRequest{
		Model:    p.transcriptionModel,
		Reader:   &audioReader{Reader: bytes.NewReader(audio.Data), contentType: audio.MIMEType},
		FilePath: audioFilename(audio.Filename, audio.MIMEType),
		Format:   oai.AudioResponseFormatJSON,
	})
	if err != nil {
		return "", p.classify(ctx, c, err)
	}
	return strings.TrimSpace(resp.Text), nil
}

// transcribeAll transcribes the audio parts of req's user messages that the
// chat model cannot take, one after the other.
func (p *Provider) transcribeAll(ctx context.Context, req *llm.Request) (map[partRef]string, error) {
	var out map[partRef]string
	for i, m := range req.Messages {
		if m.Role != llm.User {
			continue
		}
		for j, part := range m.Parts {
			if part.Kind != llm.KindAudio || (p.audioInput && audioFormat(part.MIMEType) != "" && len(part.Data) > 0) {
				continue
			}
			text, err := p.Transcribe(ctx, part)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = make(map[partRef]string)
			}
			out[partRef{i, j}] = text
		}
	}
	return out, nil
}

// audioReader gives go-openai the part's content type for the upload.
type audioReader struct {
	*bytes.Reader
	contentType string
}

// ContentType is read by go-openai's form builder.
func (r *audioReader) ContentType() string { return r.contentType }

// audioFilename returns the name of the uploaded file: the API tells the
// format by the extension.
func audioFilename(name, mimeType string) string {
	if name != "" && path.Ext(name) != "" {
		return path.Base(name)
	}
	var ext string
	switch mt := mediaType(mimeType); mt {
	case "audio/ogg", "audio/opus", "":
		ext = ".ogg" // WhatsApp voice notes

	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3":
		ext = ".mp3"
	case "audio/mp4", "audio/m4a", "audio/x-m4a":
		ext = ".m4a"
	case "audio/aac":
		ext = ".aac"
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		ext = ".wav"
	case "audio/webm":
		ext = ".webm"
	case "audio/flac", "audio/x-flac":
		ext = ".flac"
	case "audio/amr":
		ext = ".amr"
	default:
		ext = ".bin" // the API answers that it does not know the format
		if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return "audio" + ext
}
