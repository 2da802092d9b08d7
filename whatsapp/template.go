package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TemplateCategory is the category a message template is created in, and
// billed and approved as.
type TemplateCategory string

// Template categories.
const (
	TemplateMarketing      TemplateCategory = "MARKETING"
	TemplateUtility        TemplateCategory = "UTILITY"
	TemplateAuthentication TemplateCategory = "AUTHENTICATION"
)

// TemplateStatus is the review status of a message template. Only
// APPROVED templates can be sent.
type TemplateStatus string

// Template statuses, as the Business Management API reports them in
// listings and in message_template_status_update webhooks.
const (
	TemplateApproved        TemplateStatus = "APPROVED"
	TemplatePending         TemplateStatus = "PENDING"
	TemplateRejected        TemplateStatus = "REJECTED"
	TemplatePaused          TemplateStatus = "PAUSED"
	TemplateDisabled        TemplateStatus = "DISABLED"
	TemplateInAppeal        TemplateStatus = "IN_APPEAL"
	TemplatePendingDeletion TemplateStatus = "PENDING_DELETION"
	TemplateDeleted         TemplateStatus = "DELETED"
	TemplateLimitExceeded   TemplateStatus = "LIMIT_EXCEEDED"
	TemplateArchived        TemplateStatus = "ARCHIVED"
)

// ParameterFormat says how a template's variables are written: {{1}},
// {{2}}... (positional, the default) or {{order_id}} (named).
type ParameterFormat string

// Parameter formats.
const (
	ParamsPositional ParameterFormat = "POSITIONAL"
	ParamsNamed      ParameterFormat = "NAMED"
)

// ComponentType is the kind of a template component.
type ComponentType string

// Component types.
const (
	ComponentHeader  ComponentType = "HEADER"
	ComponentBody    ComponentType = "BODY"
	ComponentFooter  ComponentType = "FOOTER"
	ComponentButtons ComponentType = "BUTTONS"
)

// HeaderFormat is the format of a template header.
type HeaderFormat string

// Header formats.
const (
	HeaderText     HeaderFormat = "TEXT"
	HeaderImage    HeaderFormat = "IMAGE"
	HeaderVideo    HeaderFormat = "VIDEO"
	HeaderDocument HeaderFormat = "DOCUMENT"
	HeaderLocation HeaderFormat = "LOCATION"
)

// ButtonType is the kind of a template button.
type ButtonType string

// Button types.
const (
	ButtonQuickReply  ButtonType = "QUICK_REPLY"
	ButtonURL         ButtonType = "URL"
	ButtonPhoneNumber ButtonType = "PHONE_NUMBER"
	ButtonCopyCode    ButtonType = "COPY_CODE"
	// ButtonOTP is the one-time-password button of authentication
	// templates (otp_type COPY_CODE or ONE_TAP).
	ButtonOTP ButtonType = "OTP"
)

// TemplateSpec is a message template to create: the body of POST
// /{waba-id}/message_templates. Build one with [NewTemplate], or decode
// one from JSON (it has the API's field names); [TemplateSpec.Validate]
// checks it against WhatsApp's limits, and [Client.CreateTemplate] does so
// before any request.
type TemplateSpec struct {
	// Name is lower-case letters, digits and underscores, at most 512.
	Name string `json:"name"`
	// Language is the template's language code, such as "en_US".
	Language string           `json:"language"`
	Category TemplateCategory `json:"category"`
	// ParameterFormat is NAMED for {{name}} variables; empty or POSITIONAL
	// for {{1}}, {{2}}...
	ParameterFormat ParameterFormat     `json:"parameter_format,omitempty"`
	Components      []TemplateComponent `json:"components"`
}

// TemplateComponent is one component of a template: a header, the body,
// a footer or the buttons.
type TemplateComponent struct {
	Type ComponentType `json:"type"`
	// Format is the header's format (headers only).
	Format HeaderFormat `json:"format,omitempty"`
	// Text is the header, body or footer text, with its variables.
	Text string `json:"text,omitempty"`
	// Example gives sample values of the variables, and the sample media
	// of a media header, for Meta's review.
	Example *TemplateExample `json:"example,omitempty"`
	// Buttons are the buttons of a BUTTONS component.
	Buttons []TemplateButton `json:"buttons,omitempty"`
	// AddSecurityRecommendation and CodeExpirationMinutes configure the
	// body and footer of authentication templates.
	AddSecurityRecommendation bool `json:"add_security_recommendation,omitempty"`
	CodeExpirationMinutes     int  `json:"code_expiration_minutes,omitempty"`
}

// TemplateExample holds the sample values of a component.
type TemplateExample struct {
	// HeaderText is the sample of a text header's positional variable.
	HeaderText []string `json:"header_text,omitempty"`
	// HeaderTextNamed is the sample of a text header's named variable.
	HeaderTextNamed []NamedExample `json:"header_text_named_params,omitempty"`
	// HeaderHandle is the uploaded sample media of a media header: a
	// handle from the resumable upload API ([Client.UploadFile]).
	HeaderHandle []string `json:"header_handle,omitempty"`
	// BodyText holds one row of samples of the body's positional
	// variables, {{1}} first.
	BodyText [][]string `json:"body_text,omitempty"`
	// BodyTextNamed holds a sample for each named body variable.
	BodyTextNamed []NamedExample `json:"body_text_named_params,omitempty"`
}

// NamedExample is the sample value of a named variable.
type NamedExample struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// TemplateButton is one button of a template.
type TemplateButton struct {
	Type ButtonType `json:"type"`
	// Text is the button's label, at most 25 characters.
	Text string `json:"text,omitempty"`
	// URL is a URL button's address; it may end with one variable,
	// {{1}}, whose sample is Example[0].
	URL string `json:"url,omitempty"`
	// PhoneNumber is what a PHONE_NUMBER button calls.
	PhoneNumber string `json:"phone_number,omitempty"`
	// OTPType is an OTP button's kind: COPY_CODE or ONE_TAP.
	OTPType string `json:"otp_type,omitempty"`
	// Example is the sample URL of a dynamic URL button, or the sample
	// code of a COPY_CODE button (sent as a string, as the API wants).
	Example []string `json:"example,omitempty"`
}

// MarshalJSON encodes the button as the API wants it: a COPY_CODE
// button's example is a string, other buttons' an array.
func (b TemplateButton) MarshalJSON() ([]byte, error) {
	type plain TemplateButton
	if b.Type == ButtonCopyCode && len(b.Example) > 0 {
		return json.Marshal(struct {
			plain
			Example string `json:"example"`
		}{plain(b), b.Example[0]})
	}
	return json.Marshal(plain(b))
}

// UnmarshalJSON decodes a button whose example is a string or an array
// of strings; an example of another shape is dropped rather than failing
// a whole template listing.
func (b *TemplateButton) UnmarshalJSON(data []byte) error {
	type plain TemplateButton
	var w struct {
		plain
		Example json.RawMessage `json:"example"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*b = TemplateButton(w.plain)
	b.Example = nil
	if len(w.Example) > 0 && string(w.Example) != "null" {
		var s string
		if json.Unmarshal(w.Example, &s) == nil {
			b.Example = []string{s}
		} else if json.Unmarshal(w.Example, &b.Example) != nil {
			b.Example = nil
		}
	}
	return nil
}

// Meta's template limits, checked by [TemplateSpec.Validate]. Where they
// come from (stored copies of the public references, searched in
// December 2026):
//
//   - developers.facebook.com/documentation/business-messaging/whatsapp/templates/components:
//     text header "Supports 1 parameter ... Maximum 60 characters"; media
//     headers IMAGE, VIDEO, GIF or DOCUMENT with an example header_handle
//     from the Resumable Upload API; named examples header_text_named_params
//     and positional header_text.
//   - docs.ycloud.com/.../template-components-and-formats: body "up to
//     1,024 characters", footer "Up to 60 characters", buttons "Up to 10
//     total ... with separate limits by button type".
//   - docs.gupshup.io/docs/template-button-list: "maximum of 1 button of
//     type PHONE_NUMBER", "maximum of 2 buttons of type URL", "maximum of
//     10 buttons of type QUICK_REPLY", "maximum of 1 button of type
//     COPY_CODE".
//   - help.businesschat.io/en/articles/6517829-template-messages: the name
//     "can only contain lowercase alphanumeric characters and underscores",
//     "Button text can be up to 25 characters" (an older copy of the same
//     page says 20; the current one says 25, which is what is checked),
//     header text "can consist of 1 placeholder"; footers are text only.
//   - docs.smooch.io/guide/whatsapp-message-templates: the name "must have
//     no more than 512 characters and may only contain lowercase letters,
//     numbers, and underscores" (maxTemplateName in send.go).
const (
	maxTemplateBody       = 1024
	maxTemplateHeader     = 60
	maxTemplateFooter     = 60
	maxTemplateButtons    = 10
	maxTemplateURLButtons = 2
	maxTemplatePhone      = 1
	maxTemplateCopyCode   = 1
	maxTemplateButtonText = 25
	maxTemplateHeaderVars = 1
)

var (
	templateName = regexp.MustCompile(`^[a-z0-9_]+$`)
	variable     = regexp.MustCompile(`\{\{([^{}]*)\}\}`)
	positional   = regexp.MustCompile(`^[1-9][0-9]*$`)
	namedVar     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// templateVars is the variables of one text: positional numbers or names,
// in order of appearance, repeats removed.
type templateVars struct {
	numbers []int
	names   []string
	bad     []string // neither
}

func (v templateVars) count() int { return len(v.numbers) + len(v.names) }

func varsOf(text string) templateVars {
	var v templateVars
	for _, m := range variable.FindAllStringSubmatch(text, -1) {
		s := m[1]
		switch {
		case positional.MatchString(s):
			n, err := strconv.Atoi(s)
			if err != nil || n > 1000 {
				v.bad = append(v.bad, s)
			} else if !slices.Contains(v.numbers, n) {
				v.numbers = append(v.numbers, n)
			}
		case namedVar.MatchString(s) && len(s) <= maxParamName:
			if !slices.Contains(v.names, s) {
				v.names = append(v.names, s)
			}
		default:
			v.bad = append(v.bad, s)
		}
	}
	return v
}

// Validate checks the template against WhatsApp's limits and returns nil,
// or an error wrapping [channel.ErrInvalidMessage] that joins one error
// per broken rule, each naming the rule:
//
//   - name: 1-512 lower-case letters, digits and underscores; a language;
//     a category MARKETING, UTILITY or AUTHENTICATION;
//   - exactly one BODY, at most one HEADER, FOOTER and BUTTONS;
//   - body at most 1024 characters; variables {{1}}..{{n}} without gaps,
//     or named {{name}} variables with parameter_format NAMED, never
//     mixed; a sample for every variable (example.body_text or
//     body_text_named_params);
//   - text header at most 60 characters with at most 1 variable and its
//     sample; media header (IMAGE, VIDEO, DOCUMENT) with a header_handle;
//   - footer at most 60 characters, without variables;
//   - at most 10 buttons, of which at most 2 URL, 1 PHONE_NUMBER and 1
//     COPY_CODE; labels at most 25 characters; URL buttons need a URL
//     (with a sample when it ends in a variable), phone buttons a number,
//     copy-code buttons a sample code; quick replies grouped together,
//     not between other buttons; no copy-code button in UTILITY
//     templates; OTP buttons only, and exactly one, in AUTHENTICATION
//     templates.
//
// Authentication templates have a body without text (WhatsApp writes
// it); their text checks are skipped.
func (t TemplateSpec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch n := utf8.RuneCountInString(t.Name); {
	case n == 0:
		bad("name: required")
	case n > maxTemplateName:
		bad("name: %d characters, more than %d", n, maxTemplateName)
	case !templateName.MatchString(t.Name):
		bad("name: only lower-case letters, digits and underscores")
	}
	if t.Language == "" || len(t.Language) > 16 || strings.ContainsAny(t.Language, " /?&#") {
		bad("language: a language code such as en_US is required")
	}
	switch t.Category {
	case TemplateMarketing, TemplateUtility, TemplateAuthentication:
	default:
		bad("category: must be MARKETING, UTILITY or AUTHENTICATION")
	}
	switch t.ParameterFormat {
	case "", ParamsPositional, ParamsNamed:
	default:
		bad("parameter_format: must be POSITIONAL or NAMED")
	}
	errs = append(errs, validateComponents(t.Category, t.ParameterFormat, t.Components, true)...)
	if len(errs) == 0 {
		return nil
	}
	return invalidf("template: %w", errors.Join(errs...))
}

// validateComponents checks a template's components against the limits
// of [TemplateSpec.Validate]; requireBody asks for a BODY.
func validateComponents(cat TemplateCategory, pf ParameterFormat, comps []TemplateComponent, requireBody bool) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	named := pf == ParamsNamed
	seen := map[ComponentType]int{}
	for i, c := range comps {
		seen[c.Type]++
		if seen[c.Type] > 1 {
			bad("components: at most one %s (component %d)", c.Type, i)
			continue
		}
		switch c.Type {
		case ComponentBody:
			errs = append(errs, validateBody(cat, named, c)...)
		case ComponentHeader:
			errs = append(errs, validateHeader(named, c)...)
		case ComponentFooter:
			if n := utf8.RuneCountInString(c.Text); n > maxTemplateFooter {
				bad("footer: %d characters, more than %d", n, maxTemplateFooter)
			}
			if c.Text == "" && cat != TemplateAuthentication {
				bad("footer: text required")
			}
			if varsOf(c.Text).count() > 0 || len(varsOf(c.Text).bad) > 0 {
				bad("footer: variables are not allowed")
			}
		case ComponentButtons:
			errs = append(errs, validateButtons(cat, c.Buttons)...)
		default:
			bad("components: component %d has unknown type %q (HEADER, BODY, FOOTER or BUTTONS)", i, c.Type)
		}
	}
	if requireBody && seen[ComponentBody] == 0 {
		bad("body: a BODY component is required")
	}
	return errs
}

func validateBody(cat TemplateCategory, named bool, c TemplateComponent) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cat == TemplateAuthentication && c.Text == "" {
		return nil
	}
	n := utf8.RuneCountInString(c.Text)
	switch {
	case n == 0:
		bad("body: text required")
	case n > maxTemplateBody:
		bad("body: %d characters, more than %d", n, maxTemplateBody)
	}
	v := varsOf(c.Text)
	errs = append(errs, checkVars("body", named, v)...)
	var ex TemplateExample
	if c.Example != nil {
		ex = *c.Example
	}
	switch {
	case len(v.numbers) > 0:
		if len(ex.BodyText) != 1 || len(ex.BodyText[0]) != len(v.numbers) {
			bad("body: example.body_text needs one row of %d samples, one per variable", len(v.numbers))
		} else if slices.Contains(ex.BodyText[0], "") {
			bad("body: every variable needs a non-empty sample")
		}
	case len(v.names) > 0:
		errs = append(errs, checkNamedExamples("body", v.names, ex.BodyTextNamed)...)
	}
	return errs
}

// checkVars checks the variables of a text: not mixed, named only with
// parameter_format NAMED, positional numbered 1..n without gaps.
func checkVars(where string, named bool, v templateVars) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(v.bad) > 0 {
		bad("%s: variable {{%s}} is neither a number nor a lower-case name of at most %d characters", where, v.bad[0], maxParamName)
	}
	switch {
	case len(v.numbers) > 0 && len(v.names) > 0:
		bad("%s: positional {{1}} and named {{name}} variables cannot be mixed", where)
	case len(v.names) > 0 && !named:
		bad("%s: named variables need parameter_format NAMED", where)
	case len(v.numbers) > 0 && named:
		bad("%s: parameter_format NAMED needs named variables, not {{%d}}", where, v.numbers[0])
	case len(v.numbers) > 0:
		sorted := slices.Sorted(slices.Values(v.numbers))
		for i, n := range sorted {
			if n != i+1 {
				bad("%s: variables must be numbered {{1}} to {{%d}} without gaps; {{%d}} is missing", where, len(sorted), i+1)
				break
			}
		}
	}
	return errs
}

func checkNamedExamples(where string, names []string, ex []NamedExample) []error {
	var errs []error
	got := map[string]string{}
	for _, e := range ex {
		got[e.ParamName] = e.Example
	}
	for _, n := range names {
		if got[n] == "" {
			errs = append(errs, fmt.Errorf("%s: variable {{%s}} needs a non-empty sample in the named examples", where, n))
		}
	}
	for _, e := range ex {
		if !slices.Contains(names, e.ParamName) {
			errs = append(errs, fmt.Errorf("%s: sample for {{%s}}, which the text does not use", where, e.ParamName))
		}
	}
	return errs
}

func validateHeader(named bool, c TemplateComponent) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var ex TemplateExample
	if c.Example != nil {
		ex = *c.Example
	}
	switch c.Format {
	case HeaderText:
		n := utf8.RuneCountInString(c.Text)
		switch {
		case n == 0:
			bad("header: text required")
		case n > maxTemplateHeader:
			bad("header: %d characters, more than %d", n, maxTemplateHeader)
		}
		v := varsOf(c.Text)
		if v.count() > maxTemplateHeaderVars {
			bad("header: %d variables, at most %d", v.count(), maxTemplateHeaderVars)
		}
		errs = append(errs, checkVars("header", named, v)...)
		switch {
		case len(v.numbers) > 0:
			if len(ex.HeaderText) != 1 || ex.HeaderText[0] == "" {
				bad("header: the variable needs one non-empty sample in example.header_text")
			}
		case len(v.names) > 0:
			errs = append(errs, checkNamedExamples("header", v.names, ex.HeaderTextNamed)...)
		}
	case HeaderImage, HeaderVideo, HeaderDocument:
		if c.Text != "" {
			bad("header: a %s header has no text", c.Format)
		}
		if len(ex.HeaderHandle) != 1 || ex.HeaderHandle[0] == "" {
			bad("header: a %s header needs one sample media handle in example.header_handle", c.Format)
		}
	case HeaderLocation:
	default:
		bad("header: format must be TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION")
	}
	return errs
}

func validateButtons(cat TemplateCategory, bs []TemplateButton) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(bs) == 0 {
		bad("buttons: a BUTTONS component needs at least one button")
	}
	if len(bs) > maxTemplateButtons {
		bad("buttons: %d buttons, at most %d", len(bs), maxTemplateButtons)
	}
	count := map[ButtonType]int{}
	for i, b := range bs {
		count[b.Type]++
		if n := utf8.RuneCountInString(b.Text); n > maxTemplateButtonText {
			bad("buttons: button %d label is %d characters, more than %d", i, n, maxTemplateButtonText)
		}
		switch b.Type {
		case ButtonQuickReply:
			if b.Text == "" {
				bad("buttons: quick-reply button %d needs a label", i)
			}
		case ButtonURL:
			if b.Text == "" {
				bad("buttons: URL button %d needs a label", i)
			}
			if !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") {
				bad("buttons: URL button %d needs an http or https URL", i)
			}
			v := varsOf(b.URL)
			if v.count() > 1 || len(v.bad) > 0 || len(v.names) > 0 || (v.count() == 1 && !strings.HasSuffix(b.URL, "{{1}}")) {
				bad("buttons: URL button %d may only end with the one variable {{1}}", i)
			} else if v.count() == 1 && (len(b.Example) != 1 || b.Example[0] == "") {
				bad("buttons: URL button %d ends with {{1}} and needs a sample URL in example", i)
			}
		case ButtonPhoneNumber:
			if b.Text == "" {
				bad("buttons: phone button %d needs a label", i)
			}
			if !isPhone(b.PhoneNumber) {
				bad("buttons: phone button %d needs a phone number", i)
			}
		case ButtonCopyCode:
			if len(b.Example) != 1 || b.Example[0] == "" || utf8.RuneCountInString(b.Example[0]) > 15 {
				bad("buttons: copy-code button %d needs a sample code of 1-15 characters", i)
			}
		case ButtonOTP:
			if b.OTPType == "" {
				bad("buttons: OTP button %d needs an otp_type", i)
			}
		default:
			bad("buttons: button %d has unknown type %q (QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP)", i, b.Type)
		}
	}
	if count[ButtonURL] > maxTemplateURLButtons {
		bad("buttons: %d URL buttons, at most %d", count[ButtonURL], maxTemplateURLButtons)
	}
	if count[ButtonPhoneNumber] > maxTemplatePhone {
		bad("buttons: %d phone buttons, at most %d", count[ButtonPhoneNumber], maxTemplatePhone)
	}
	if count[ButtonCopyCode] > maxTemplateCopyCode {
		bad("buttons: %d copy-code buttons, at most %d", count[ButtonCopyCode], maxTemplateCopyCode)
	}
	// Category and grouping rules (docs.gupshup.io/docs/template-button-list):
	// "UTILITY templates cannot use COPY_CODE", "MARKETING and UTILITY
	// templates cannot use button of type OTP", AUTHENTICATION templates
	// "can have only one button and its type must be OTP", and quick
	// replies mixed with other buttons "must be organized into two groups".
	switch {
	case cat == TemplateUtility && count[ButtonCopyCode] > 0:
		bad("buttons: UTILITY templates cannot have a copy-code button")
	case cat != TemplateAuthentication && cat != "" && count[ButtonOTP] > 0:
		bad("buttons: only AUTHENTICATION templates have OTP buttons")
	case cat == TemplateAuthentication && (len(bs) != 1 || count[ButtonOTP] != 1):
		bad("buttons: an AUTHENTICATION template has exactly one button, of type OTP")
	}
	groups := 0
	for i, b := range bs {
		if i == 0 || (b.Type == ButtonQuickReply) != (bs[i-1].Type == ButtonQuickReply) {
			groups++
		}
	}
	if groups > 2 {
		bad("buttons: quick replies and other buttons must form two groups, not be interleaved")
	}
	return errs
}

// TemplateBuilder builds a [TemplateSpec] step by step; [TemplateBuilder.Build]
// validates it. Each method adds one component or button and returns the
// builder, for chaining:
//
//	spec, err := whatsapp.NewTemplate("order_shipped", "en_US", whatsapp.TemplateUtility).
//		Body("Hi {{1}}, order {{2}} is on its way.", "Ana", "A-1234").
//		Footer("Reply STOP to opt out").
//		QuickReply("Track it").
//		Build()
//
// A TemplateBuilder is not safe for concurrent use.
type TemplateBuilder struct {
	spec    TemplateSpec
	buttons []TemplateButton
}

// NewTemplate starts a template of name, language and category.
func NewTemplate(name, language string, category TemplateCategory) *TemplateBuilder {
	return &TemplateBuilder{spec: TemplateSpec{Name: name, Language: language, Category: category}}
}

func (b *TemplateBuilder) add(c TemplateComponent) *TemplateBuilder {
	b.spec.Components = append(b.spec.Components, c)
	return b
}

// HeaderText adds a text header; example is the sample of its variable,
// if it has one ({{1}}).
func (b *TemplateBuilder) HeaderText(text string, example ...string) *TemplateBuilder {
	c := TemplateComponent{Type: ComponentHeader, Format: HeaderText, Text: text}
	if len(example) > 0 {
		c.Example = &TemplateExample{HeaderText: example}
	}
	return b.add(c)
}

// HeaderTextNamed adds a text header with a named variable and its sample.
func (b *TemplateBuilder) HeaderTextNamed(text string, example NamedExample) *TemplateBuilder {
	b.spec.ParameterFormat = ParamsNamed
	return b.add(TemplateComponent{Type: ComponentHeader, Format: HeaderText, Text: text,
		Example: &TemplateExample{HeaderTextNamed: []NamedExample{example}}})
}

// HeaderMedia adds an IMAGE, VIDEO or DOCUMENT header whose sample is the
// uploaded media handle (from [Client.UploadFile]).
func (b *TemplateBuilder) HeaderMedia(format HeaderFormat, handle string) *TemplateBuilder {
	return b.add(TemplateComponent{Type: ComponentHeader, Format: format, Example: &TemplateExample{HeaderHandle: []string{handle}}})
}

// Body adds the body with positional variables {{1}}..{{n}} and their
// samples, in order.
func (b *TemplateBuilder) Body(text string, examples ...string) *TemplateBuilder {
	c := TemplateComponent{Type: ComponentBody, Text: text}
	if len(examples) > 0 {
		c.Example = &TemplateExample{BodyText: [][]string{examples}}
	}
	return b.add(c)
}

// BodyNamed adds the body with named variables and their samples; the
// template's parameter_format becomes NAMED.
func (b *TemplateBuilder) BodyNamed(text string, examples ...NamedExample) *TemplateBuilder {
	b.spec.ParameterFormat = ParamsNamed
	c := TemplateComponent{Type: ComponentBody, Text: text}
	if len(examples) > 0 {
		c.Example = &TemplateExample{BodyTextNamed: examples}
	}
	return b.add(c)
}

// Footer adds a footer.
func (b *TemplateBuilder) Footer(text string) *TemplateBuilder {
	return b.add(TemplateComponent{Type: ComponentFooter, Text: text})
}

// QuickReply adds a quick-reply button.
func (b *TemplateBuilder) QuickReply(text string) *TemplateBuilder {
	b.buttons = append(b.buttons, TemplateButton{Type: ButtonQuickReply, Text: text})
	return b
}

// URLButton adds a URL button; a URL ending in {{1}} needs example, a
// full sample URL.
func (b *TemplateBuilder) URLButton(text, url string, example ...string) *TemplateBuilder {
	b.buttons = append(b.buttons, TemplateButton{Type: ButtonURL, Text: text, URL: url, Example: example})
	return b
}

// PhoneButton adds a button that calls phone.
func (b *TemplateBuilder) PhoneButton(text, phone string) *TemplateBuilder {
	b.buttons = append(b.buttons, TemplateButton{Type: ButtonPhoneNumber, Text: text, PhoneNumber: phone})
	return b
}

// CopyCodeButton adds a button that copies a code; example is a sample
// code.
func (b *TemplateBuilder) CopyCodeButton(example string) *TemplateBuilder {
	b.buttons = append(b.buttons, TemplateButton{Type: ButtonCopyCode, Example: []string{example}})
	return b
}

// Build returns the template, validated with [TemplateSpec.Validate].
func (b *TemplateBuilder) Build() (TemplateSpec, error) {
	spec := b.spec
	spec.Components = slices.Clone(spec.Components)
	if len(b.buttons) > 0 {
		spec.Components = append(spec.Components, TemplateComponent{Type: ComponentButtons, Buttons: slices.Clone(b.buttons)})
	}
	if err := spec.Validate(); err != nil {
		return TemplateSpec{}, err
	}
	return spec, nil
}

// TemplateInfo is a template of a business account, as listed.
type TemplateInfo struct {
	ID              string              `json:"id"`
	Name            string              `json:"name"`
	Language        string              `json:"language"`
	Status          TemplateStatus      `json:"status"`
	Category        TemplateCategory    `json:"category"`
	ParameterFormat ParameterFormat     `json:"parameter_format,omitempty"`
	Components      []TemplateComponent `json:"components,omitempty"`
	// RejectedReason says why a template was rejected ("NONE" otherwise).
	RejectedReason string `json:"rejected_reason,omitempty"`
	// QualityScore is the template's quality, when listed with it.
	QualityScore *QualityScore `json:"quality_score,omitempty"`
}

// QualityScore is a template's quality rating: GREEN, YELLOW, RED or
// UNKNOWN.
type QualityScore struct {
	Score string `json:"score"`
}

// TemplateCreated is the answer to [Client.CreateTemplate].
type TemplateCreated struct {
	ID       string           `json:"id"`
	Status   TemplateStatus   `json:"status"`
	Category TemplateCategory `json:"category"`
}

// TemplateQuery filters and pages a template listing. Empty fields do not
// filter.
type TemplateQuery struct {
	Page
	// Name matches templates whose name contains it.
	Name     string
	Status   TemplateStatus
	Category TemplateCategory
	Language string
	// Fields are the fields to return (default: id, name, language,
	// status, category, parameter_format, components, rejected_reason
	// and quality_score).
	Fields []string
}

// defaultTemplateFields are the fields templates are read with.
func defaultTemplateFields() []string {
	return []string{"id", "name", "language", "status", "category", "parameter_format", "components", "rejected_reason", "quality_score"}
}

// TemplatePage is one page of templates.
type TemplatePage struct {
	Templates []TemplateInfo
	// After is the cursor of the next page, "" on the last page.
	After string
}

func (c *Client) listTemplates(ctx context.Context, acct Account, q TemplateQuery) (TemplatePage, error) {
	v := url.Values{}
	if err := q.Page.query(v); err != nil {
		return TemplatePage{}, err
	}
	v.Set("fields", strings.Join(cmpSlice(q.Fields, defaultTemplateFields()), ","))
	for k, s := range map[string]string{"name": q.Name, "status": string(q.Status), "category": string(q.Category), "language": q.Language} {
		if s != "" {
			v.Set(k, s)
		}
	}
	var page graphPage[TemplateInfo]
	if err := c.manage(ctx, acct, manageCall{op: "templates", method: http.MethodGet, path: "/" + acct.ID + "/message_templates", query: v, out: &page}); err != nil {
		return TemplatePage{}, err
	}
	return TemplatePage{Templates: page.Data, After: page.next()}, nil
}

func cmpSlice(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// ListTemplates returns one page of the account's templates (GET
// /{waba-id}/message_templates), filtered by q (nil: the first page,
// unfiltered). Errors are [*channel.Error] values classified by [Kind];
// the call is retried like a send.
func (c *Client) ListTemplates(ctx context.Context, acct Account, q *TemplateQuery) (TemplatePage, error) {
	var query TemplateQuery
	if q != nil {
		query = *q
	}
	return c.listTemplates(ctx, acct, query)
}

// Templates ranges over all of the account's templates matching q (nil:
// all), fetching page after page as the loop goes on. It stops at the
// first error, which it yields.
func (c *Client) Templates(ctx context.Context, acct Account, q *TemplateQuery) iter.Seq2[TemplateInfo, error] {
	var query TemplateQuery
	if q != nil {
		query = *q
	}
	return pages(ctx, query.Page, func(ctx context.Context, p Page) ([]TemplateInfo, string, error) {
		qq := query
		qq.Page = p
		page, err := c.listTemplates(ctx, acct, qq)
		return page.Templates, page.After, err
	})
}

// Template returns the template with id (GET /{template-id}).
func (c *Client) Template(ctx context.Context, acct Account, id string) (TemplateInfo, error) {
	if !validID(id) {
		return TemplateInfo{}, invalidf("template id must be a Graph API id")
	}
	var t TemplateInfo
	err := c.manage(ctx, acct, manageCall{op: "template", method: http.MethodGet, path: "/" + id,
		query: url.Values{"fields": {strings.Join(defaultTemplateFields(), ",")}}, out: &t})
	return t, err
}

// CreateTemplate validates spec with [TemplateSpec.Validate] and submits
// it for review (POST /{waba-id}/message_templates). The template starts
// PENDING; its review ends in a message_template_status_update webhook.
// The request is not repeated when its outcome is unknown.
func (c *Client) CreateTemplate(ctx context.Context, acct Account, spec TemplateSpec) (TemplateCreated, error) {
	if err := spec.Validate(); err != nil {
		return TemplateCreated{}, err
	}
	var out TemplateCreated
	err := c.manage(ctx, acct, manageCall{op: "template.create", method: http.MethodPost, path: "/" + acct.ID + "/message_templates", body: spec, out: &out})
	if err == nil {
		c.templates.stale(acct.ID)
	}
	return out, err
}

// TemplateEdit changes a template: its category, its components, or both
// (empty fields stay as they are). Components, when set, replace all of
// the template's components.
type TemplateEdit struct {
	Category        TemplateCategory    `json:"category,omitempty"`
	ParameterFormat ParameterFormat     `json:"parameter_format,omitempty"`
	Components      []TemplateComponent `json:"components,omitempty"`
}

// EditTemplate changes the template with id (POST /{template-id}),
// validating the new components as [TemplateSpec.Validate] does. An
// edited template is reviewed again.
func (c *Client) EditTemplate(ctx context.Context, acct Account, id string, edit TemplateEdit) error {
	if !validID(id) {
		return invalidf("template id must be a Graph API id")
	}
	if edit.Category == "" && len(edit.Components) == 0 {
		return invalidf("template edit changes nothing: set the category or the components")
	}
	var errs []error
	switch edit.Category {
	case "", TemplateMarketing, TemplateUtility, TemplateAuthentication:
	default:
		errs = append(errs, errors.New("category: must be MARKETING, UTILITY or AUTHENTICATION"))
	}
	if len(edit.Components) > 0 {
		errs = append(errs, validateComponents(edit.Category, edit.ParameterFormat, edit.Components, true)...)
	}
	if len(errs) > 0 {
		return invalidf("template: %w", errors.Join(errs...))
	}
	var ok successAnswer
	if err := c.manage(ctx, acct, manageCall{op: "template.edit", method: http.MethodPost, path: "/" + id, body: edit, out: &ok}); err != nil {
		return err
	}
	c.templates.stale(acct.ID)
	return nil
}

// DeleteTemplate deletes the account's template name in every language
// (DELETE /{waba-id}/message_templates?name=...), or, with id, only the
// one with that id (&hsm_id=...).
func (c *Client) DeleteTemplate(ctx context.Context, acct Account, name, id string) error {
	if name == "" || !templateName.MatchString(name) {
		return invalidf("template name: only lower-case letters, digits and underscores")
	}
	v := url.Values{"name": {name}}
	if id != "" {
		if !validID(id) {
			return invalidf("template id must be a Graph API id")
		}
		v.Set("hsm_id", id)
	}
	var ok successAnswer
	if err := c.manage(ctx, acct, manageCall{op: "template.delete", method: http.MethodDelete, path: "/" + acct.ID + "/message_templates", query: v, out: &ok}); err != nil {
		return err
	}
	c.templates.stale(acct.ID)
	return nil
}
