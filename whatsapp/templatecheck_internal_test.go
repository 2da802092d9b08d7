package whatsapp

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/wagent/wagent/channel"
)

// FuzzMatchParams checks the template check against the template
// validator: for every valid template, the message filled from the
// template's own examples passes the check, and one parameter more fails
// it with ErrTemplateParams.
func FuzzMatchParams(f *testing.F) {
	f.Add([]byte(`{"name":"a","language":"en","category":"UTILITY","components":[{"type":"HEADER","format":"TEXT","text":"H {{1}}","example":{"header_text":["h"]}},{"type":"BODY","text":"{{1}} {{2}}","example":{"body_text":[["a","b"]]}},{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"q"},{"type":"URL","text":"u","url":"https://x.example/{{1}}","example":["https://x.example/1"]}]}]}`))
	f.Add([]byte(`{"name":"a","language":"en","category":"MARKETING","parameter_format":"NAMED","components":[{"type":"HEADER","format":"VIDEO","example":{"header_handle":["h"]}},{"type":"BODY","text":"{{x}} {{y}} {{x}}","example":{"body_text_named_params":[{"param_name":"x","example":"1"},{"param_name":"y","example":"2"}]}}]}`))
	f.Add([]byte(`{"name":"a","language":"en","category":"UTILITY","components":[{"type":"BODY","text":"plain"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var spec TemplateSpec
		if json.Unmarshal(data, &spec) != nil || spec.Validate() != nil {
			return
		}
		// What a channel.Template cannot fill is refused by design.
		for _, c := range spec.Components {
			if c.Format == HeaderLocation || slices.ContainsFunc(c.Buttons, func(b TemplateButton) bool { return b.Type == ButtonCopyCode }) {
				return
			}
		}
		info := TemplateInfo{Name: spec.Name, Language: spec.Language, Status: TemplateApproved, Category: spec.Category,
			ParameterFormat: spec.ParameterFormat, Components: spec.Components}
		tp := &channel.Template{Name: spec.Name, Language: spec.Language}
		for _, c := range spec.Components {
			switch c.Type {
			case ComponentHeader:
				switch c.Format {
				case HeaderText:
					if varsOf(c.Text).count() > 0 {
						tp.Header = &channel.TemplateHeader{Text: "h"}
					}
				case HeaderImage:
					tp.Header = &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Image, ID: "1"}}
				case HeaderVideo:
					tp.Header = &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Video, ID: "1"}}
				case HeaderDocument:
					tp.Header = &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Document, ID: "1"}}
				}
			case ComponentBody:
				v := varsOf(c.Text)
				for range v.numbers {
					tp.Params = append(tp.Params, channel.TemplateParam{Value: "v"})
				}
				for _, n := range v.names {
					tp.Params = append(tp.Params, channel.TemplateParam{Name: n, Value: "v"})
				}
			case ComponentButtons:
				for i, b := range c.Buttons {
					switch {
					case b.Type == ButtonURL && varsOf(b.URL).count() > 0, b.Type == ButtonOTP:
						tp.Buttons = append(tp.Buttons, channel.TemplateButton{Index: i, URLSuffix: "s"})
					case b.Type == ButtonQuickReply:
						tp.Buttons = append(tp.Buttons, channel.TemplateButton{Index: i, Payload: "p"})
					}
				}
			}
		}
		if err := matchParams(info, tp); err != nil {
			t.Fatalf("a message filled from the template's examples fails the check: %v", err)
		}
		tp.Params = append(tp.Params, channel.TemplateParam{Value: "extra"})
		if err := matchParams(info, tp); err == nil {
			t.Fatal("a parameter more passes the check")
		}
	})
}
