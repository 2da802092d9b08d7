package whatsapp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const (
	waba      = "102290129340398"
	wabaToken = "waba-A-token-3c9f1e"
	wabaB     = "102290129340399"
	tokenB    = "waba-B-token-77aa02"
	appID     = "1234567890123"
	highPhone = channel.TenantID("106540352242923")
)

// newManaged returns a client, the fake with two business accounts, each
// with its own token, and the first account.
func newManaged(t testing.TB, opts *whatsapp.Options) (*whatsapp.Client, *whatsapptest.Server, whatsapp.Account) {
	t.Helper()
	api := whatsapptest.NewServer(token, "")
	t.Cleanup(api.Close)
	api.AddAccount(whatsapptest.Account{ID: waba, Token: wabaToken, Numbers: []whatsapptest.PhoneNumber{
		{ID: string(tenant), DisplayPhoneNumber: "+1 555-078-3881", VerifiedName: "Shop A", QualityRating: "GREEN", MessagingLimitTier: "TIER_1K", ThroughputLevel: "STANDARD",
			Profile: whatsapptest.Profile{About: "Fresh bread daily", Websites: []string{"https://shop-a.example"}, Vertical: "RETAIL"}},
		{ID: string(highPhone), DisplayPhoneNumber: "+1 555-078-3882", VerifiedName: "Shop A Support", QualityRating: "YELLOW", MessagingLimitTier: "TIER_10K", ThroughputLevel: "HIGH"},
	}})
	api.AddAccount(whatsapptest.Account{ID: wabaB, Token: tokenB})
	return newClientFor(t, api, opts), api, whatsapp.Account{ID: waba, Credentials: whatsapp.StaticToken(wabaToken)}
}

func fullTemplate() *whatsapp.TemplateBuilder {
	return whatsapp.NewTemplate("order_update", "en_US", whatsapp.TemplateMarketing).
		HeaderText("Order {{1}}", "A-1234").
		Body("Hi {{1}}, your order {{2}} has shipped.", "Ana", "A-1234").
		Footer("Reply STOP to opt out").
		QuickReply("Track").
		URLButton("Track online", "https://shop.example/track/{{1}}", "https://shop.example/track/A-1234").
		PhoneButton("Call us", "+15550783881").
		CopyCodeButton("SAVE10")
}

func TestTemplateValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	body := func(text string, ex ...string) whatsapp.TemplateComponent {
		c := whatsapp.TemplateComponent{Type: whatsapp.ComponentBody, Text: text}
		if len(ex) > 0 {
			c.Example = &whatsapp.TemplateExample{BodyText: [][]string{ex}}
		}
		return c
	}
	buttons := func(bs ...whatsapp.TemplateButton) whatsapp.TemplateComponent {
		return whatsapp.TemplateComponent{Type: whatsapp.ComponentButtons, Buttons: bs}
	}
	qr := whatsapp.TemplateButton{Type: whatsapp.ButtonQuickReply, Text: "Yes"}
	url := whatsapp.TemplateButton{Type: whatsapp.ButtonURL, Text: "Open", URL: "https://shop.example"}
	phone := whatsapp.TemplateButton{Type: whatsapp.ButtonPhoneNumber, Text: "Call", PhoneNumber: "+15550783881"}
	code := whatsapp.TemplateButton{Type: whatsapp.ButtonCopyCode, Example: []string{"SAVE10"}}
	spec := func(comps ...whatsapp.TemplateComponent) whatsapp.TemplateSpec {
		return whatsapp.TemplateSpec{Name: "promo", Language: "en_US", Category: whatsapp.TemplateMarketing, Components: comps}
	}
	named := func(s whatsapp.TemplateSpec) whatsapp.TemplateSpec {
		s.ParameterFormat = whatsapp.ParamsNamed
		return s
	}
	for _, tt := range []struct {
		name string
		spec whatsapp.TemplateSpec
		rule string // "" for a valid template
	}{
		{"valid full", must(fullTemplate().Build()), ""},
		{"valid named", named(spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentBody, Text: "Hi {{first_name}}",
			Example: &whatsapp.TemplateExample{BodyTextNamed: []whatsapp.NamedExample{{ParamName: "first_name", Example: "Ana"}}}})), ""},
		{"valid no variables", spec(body("Hello")), ""},
		{"valid authentication body without text", whatsapp.TemplateSpec{Name: "otp", Language: "en", Category: whatsapp.TemplateAuthentication,
			Components: []whatsapp.TemplateComponent{{Type: whatsapp.ComponentBody, AddSecurityRecommendation: true},
				{Type: whatsapp.ComponentButtons, Buttons: []whatsapp.TemplateButton{{Type: whatsapp.ButtonOTP, OTPType: "COPY_CODE"}}}}}, ""},
		{"name upper case", func() whatsapp.TemplateSpec { s := spec(body("Hi")); s.Name = "Promo"; return s }(), "name: only lower-case letters, digits and underscores"},
		{"name with space", func() whatsapp.TemplateSpec { s := spec(body("Hi")); s.Name = "my promo"; return s }(), "name: only lower-case"},
		{"name too long", func() whatsapp.TemplateSpec { s := spec(body("Hi")); s.Name = long(513); return s }(), "name: 513 characters, more than 512"},
		{"name empty", func() whatsapp.TemplateSpec { s := spec(body("Hi")); s.Name = ""; return s }(), "name: required"},
		{"no language", func() whatsapp.TemplateSpec { s := spec(body("Hi")); s.Language = ""; return s }(), "language: a language code"},
		{"bad category", func() whatsapp.TemplateSpec { s := spec(body("Hi")); s.Category = "PROMO"; return s }(), "category: must be MARKETING, UTILITY or AUTHENTICATION"},
		{"no body", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentFooter, Text: "x"}), "body: a BODY component is required"},
		{"two bodies", spec(body("a"), body("b")), "components: at most one BODY"},
		{"body too long", spec(body(long(1025))), "body: 1025 characters, more than 1024"},
		{"body at the limit", spec(body(long(1024))), ""},
		{"variables with a gap", spec(body("{{1}} and {{3}}", "a", "b")), "body: variables must be numbered {{1}} to {{2}} without gaps; {{2}} is missing"},
		{"variables not from 1", spec(body("{{2}}", "a")), "{{1}} is missing"},
		{"mixed variables", named(spec(body("{{1}} {{name}}", "a"))), "body: positional {{1}} and named {{name}} variables cannot be mixed"},
		{"named without NAMED", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentBody, Text: "Hi {{first_name}}",
			Example: &whatsapp.TemplateExample{BodyTextNamed: []whatsapp.NamedExample{{ParamName: "first_name", Example: "Ana"}}}}), "body: named variables need parameter_format NAMED"},
		{"NAMED with positional", named(spec(body("Hi {{1}}", "Ana"))), "parameter_format NAMED needs named variables"},
		{"bad variable", spec(body("Hi {{First Name}}")), "variable {{First Name}} is neither a number nor a lower-case name"},
		{"missing examples", spec(body("Hi {{1}} {{2}}", "Ana")), "body: example.body_text needs one row of 2 samples, one per variable"},
		{"no examples", spec(body("Hi {{1}}")), "example.body_text needs one row of 1 samples"},
		{"empty example", spec(body("Hi {{1}}", "")), "body: every variable needs a non-empty sample"},
		{"missing named example", named(spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentBody, Text: "Hi {{first_name}} {{order}}",
			Example: &whatsapp.TemplateExample{BodyTextNamed: []whatsapp.NamedExample{{ParamName: "first_name", Example: "Ana"}}}})), "body: variable {{order}} needs a non-empty sample"},
		{"header too long", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Format: whatsapp.HeaderText, Text: long(61)}, body("x")), "header: 61 characters, more than 60"},
		{"header two variables", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Format: whatsapp.HeaderText, Text: "{{1}} {{2}}",
			Example: &whatsapp.TemplateExample{HeaderText: []string{"a"}}}, body("x")), "header: 2 variables, at most 1"},
		{"header variable without example", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Format: whatsapp.HeaderText, Text: "Order {{1}}"}, body("x")),
			"header: the variable needs one non-empty sample in example.header_text"},
		{"media header without handle", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Format: whatsapp.HeaderImage}, body("x")),
			"header: a IMAGE header needs one sample media handle in example.header_handle"},
		{"header format", spec(whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Format: "GIFT"}, body("x")), "header: format must be TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION"},
		{"footer too long", spec(body("x"), whatsapp.TemplateComponent{Type: whatsapp.ComponentFooter, Text: long(61)}), "footer: 61 characters, more than 60"},
		{"footer variable", spec(body("x"), whatsapp.TemplateComponent{Type: whatsapp.ComponentFooter, Text: "Bye {{1}}"}), "footer: variables are not allowed"},
		{"11 buttons", spec(body("x"), buttons(qr, qr, qr, qr, qr, qr, qr, qr, qr, qr, qr)), "buttons: 11 buttons, at most 10"},
		{"10 buttons", spec(body("x"), buttons(qr, qr, qr, qr, qr, qr, qr, qr, url, phone)), ""},
		{"3 URL buttons", spec(body("x"), buttons(url, url, url)), "buttons: 3 URL buttons, at most 2"},
		{"2 phone buttons", spec(body("x"), buttons(phone, phone)), "buttons: 2 phone buttons, at most 1"},
		{"2 copy-code buttons", spec(body("x"), buttons(code, code)), "buttons: 2 copy-code buttons, at most 1"},
		{"button text too long", spec(body("x"), buttons(whatsapp.TemplateButton{Type: whatsapp.ButtonQuickReply, Text: long(26)})), "buttons: button 0 label is 26 characters, more than 25"},
		{"URL variable without example", spec(body("x"), buttons(whatsapp.TemplateButton{Type: whatsapp.ButtonURL, Text: "Go", URL: "https://x.example/{{1}}"})), "URL button 0 ends with {{1}} and needs a sample URL"},
		{"URL variable in the middle", spec(body("x"), buttons(whatsapp.TemplateButton{Type: whatsapp.ButtonURL, Text: "Go", URL: "https://x.example/{{1}}/a", Example: []string{"https://x.example/1/a"}})), "may only end with the one variable {{1}}"},
		{"URL not http", spec(body("x"), buttons(whatsapp.TemplateButton{Type: whatsapp.ButtonURL, Text: "Go", URL: "ftp://x"})), "needs an http or https URL"},
		{"phone without number", spec(body("x"), buttons(whatsapp.TemplateButton{Type: whatsapp.ButtonPhoneNumber, Text: "Call"})), "phone button 0 needs a phone number"},
		{"unknown button", spec(body("x"), buttons(whatsapp.TemplateButton{Type: "FLOW", Text: "Go"})), `button 0 has unknown type "FLOW"`},
		{"utility copy code", func() whatsapp.TemplateSpec {
			s := spec(body("x"), buttons(code))
			s.Category = whatsapp.TemplateUtility
			return s
		}(), "UTILITY templates cannot have a copy-code button"},
		{"OTP in marketing", spec(body("x"), buttons(whatsapp.TemplateButton{Type: whatsapp.ButtonOTP, OTPType: "COPY_CODE"})), "only AUTHENTICATION templates have OTP buttons"},
		{"authentication with a quick reply", whatsapp.TemplateSpec{Name: "otp", Language: "en", Category: whatsapp.TemplateAuthentication,
			Components: []whatsapp.TemplateComponent{{Type: whatsapp.ComponentBody}, buttons(qr)}}, "exactly one button, of type OTP"},
		{"interleaved quick replies", spec(body("x"), buttons(qr, url, qr)), "must form two groups"},
		{"grouped quick replies", spec(body("x"), buttons(url, phone, qr, qr)), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, channel.ErrInvalidMessage)
			assert.Contains(t, err.Error(), tt.rule)
		})
	}
	t.Run("every broken rule is named", func(t *testing.T) {
		s := spec(body(long(1025)+"{{2}}"), whatsapp.TemplateComponent{Type: whatsapp.ComponentFooter, Text: long(61)})
		s.Name = "Bad Name"
		err := s.Validate()
		require.Error(t, err)
		for _, rule := range []string{"name:", "body: 1030 characters", "{{1}} is missing", "footer: 61 characters"} {
			assert.Contains(t, err.Error(), rule)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCreateTemplate(t *testing.T) {
	c, api, acct := newManaged(t, nil)
	spec, err := fullTemplate().Build()
	require.NoError(t, err)
	created, err := c.CreateTemplate(t.Context(), acct, spec)
	require.NoError(t, err)
	assert.Equal(t, whatsapp.TemplatePending, created.Status)
	assert.Equal(t, whatsapp.TemplateMarketing, created.Category)
	assert.NotEmpty(t, created.ID)

	reqs := api.Filter("template.create")
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "/v25.0/"+waba+"/message_templates", r.Path)
	assert.Empty(t, r.Query)
	assert.Equal(t, "Bearer "+wabaToken, r.Header.Get("Authorization"), "the account's own token")
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"name":"order_update","language":"en_US","category":"MARKETING","components":[
		{"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["A-1234"]}},
		{"type":"BODY","text":"Hi {{1}}, your order {{2}} has shipped.","example":{"body_text":[["Ana","A-1234"]]}},
		{"type":"FOOTER","text":"Reply STOP to opt out"},
		{"type":"BUTTONS","buttons":[
			{"type":"QUICK_REPLY","text":"Track"},
			{"type":"URL","text":"Track online","url":"https://shop.example/track/{{1}}","example":["https://shop.example/track/A-1234"]},
			{"type":"PHONE_NUMBER","text":"Call us","phone_number":"+15550783881"},
			{"type":"COPY_CODE","example":"SAVE10"}]}]}`, string(r.Body))

	t.Run("duplicate is a graph error", func(t *testing.T) {
		_, err := c.CreateTemplate(t.Context(), acct, spec)
		var ge *whatsapp.GraphError
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, 100, ge.Code)
		assert.Equal(t, 2388024, ge.Subcode)
		assert.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Len(t, api.Filter("template.create"), 2, "an invalid request is not retried")
	})
	t.Run("invalid template sends nothing", func(t *testing.T) {
		bad := spec
		bad.Name = "Order Update"
		_, err := c.CreateTemplate(t.Context(), acct, bad)
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Len(t, api.Filter("template.create"), 2)
	})
	t.Run("named body", func(t *testing.T) {
		spec, err := whatsapp.NewTemplate("welcome", "es", whatsapp.TemplateUtility).
			HeaderMedia(whatsapp.HeaderImage, "4::aW1hZ2U=:abc").
			BodyNamed("Hola {{first_name}}", whatsapp.NamedExample{ParamName: "first_name", Example: "Ana"}).Build()
		require.NoError(t, err)
		_, err = c.CreateTemplate(t.Context(), acct, spec)
		require.NoError(t, err)
		reqs := api.Filter("template.create")
		assert.JSONEq(t, `{"name":"welcome","language":"es","category":"UTILITY","parameter_format":"NAMED","components":[
			{"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::aW1hZ2U=:abc"]}},
			{"type":"BODY","text":"Hola {{first_name}}","example":{"body_text_named_params":[{"param_name":"first_name","example":"Ana"}]}}]}`,
			string(reqs[len(reqs)-1].Body))
	})
}

func addTemplates(api *whatsapptest.Server, n int) {
	for i := range n {
		status := "APPROVED"
		if i%2 == 1 {
			status = "REJECTED"
		}
		api.AddTemplate(waba, whatsapptest.Template{Name: fmt.Sprintf("tpl_%02d", i), Language: "en_US", Category: "UTILITY", Status: status,
			Components: json.RawMessage(`[{"type":"BODY","text":"Hello {{1}}","example":{"body_text":[["Ana"]]}}]`)})
	}
}

func TestListTemplates(t *testing.T) {
	c, api, acct := newManaged(t, nil)
	addTemplates(api, 5)

	page, err := c.ListTemplates(t.Context(), acct, &whatsapp.TemplateQuery{Page: whatsapp.Page{Limit: 2}})
	require.NoError(t, err)
	require.Len(t, page.Templates, 2)
	assert.NotEmpty(t, page.After)
	first := page.Templates[0]
	assert.Equal(t, "tpl_00", first.Name)
	assert.Equal(t, whatsapp.TemplateApproved, first.Status)
	assert.Equal(t, whatsapp.TemplateUtility, first.Category)
	require.Len(t, first.Components, 1)
	assert.Equal(t, [][]string{{"Ana"}}, first.Components[0].Example.BodyText)
	r := api.Filter("templates")[0]
	assert.Equal(t, "/v25.0/"+waba+"/message_templates", r.Path)
	assert.Equal(t, "fields=id%2Cname%2Clanguage%2Cstatus%2Ccategory%2Cparameter_format%2Ccomponents%2Crejected_reason%2Cquality_score&limit=2", r.Query.Encode())

	page, err = c.ListTemplates(t.Context(), acct, &whatsapp.TemplateQuery{Page: whatsapp.Page{Limit: 2, After: page.After}})
	require.NoError(t, err)
	assert.Equal(t, "tpl_02", page.Templates[0].Name)

	t.Run("iterator walks every page", func(t *testing.T) {
		var names []string
		for tpl, err := range c.Templates(t.Context(), acct, &whatsapp.TemplateQuery{Page: whatsapp.Page{Limit: 2}}) {
			require.NoError(t, err)
			names = append(names, tpl.Name)
		}
		assert.Equal(t, []string{"tpl_00", "tpl_01", "tpl_02", "tpl_03", "tpl_04"}, names)
	})
	t.Run("filters and fields", func(t *testing.T) {
		before := len(api.Filter("templates"))
		page, err := c.ListTemplates(t.Context(), acct, &whatsapp.TemplateQuery{Status: whatsapp.TemplateRejected, Category: whatsapp.TemplateUtility,
			Language: "en_US", Name: "tpl", Fields: []string{"name", "status"}})
		require.NoError(t, err)
		require.Len(t, page.Templates, 2)
		assert.Equal(t, whatsapp.TemplateInfo{Name: "tpl_01", Status: whatsapp.TemplateRejected}, page.Templates[0], "only the fields asked for")
		assert.Empty(t, page.After, "the last page has no next cursor")
		r := api.Filter("templates")[before]
		assert.Equal(t, "category=UTILITY&fields=name%2Cstatus&language=en_US&name=tpl&status=REJECTED", r.Query.Encode())
	})
	t.Run("components wagent does not model still list", func(t *testing.T) {
		api.AddTemplate(waba, whatsapptest.Template{Name: "zz_carousel", Language: "en_US", Category: "MARKETING",
			Components: json.RawMessage(`[{"type":"BODY","text":"Look"},{"type":"CAROUSEL","cards":[{"components":[]}]},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Go","url":"https://x.example","example":{"odd":1}}]}]`)})
		page, err := c.ListTemplates(t.Context(), acct, &whatsapp.TemplateQuery{Name: "zz_"})
		require.NoError(t, err)
		require.Len(t, page.Templates, 1)
		assert.Equal(t, whatsapp.ComponentType("CAROUSEL"), page.Templates[0].Components[1].Type)
		assert.Nil(t, page.Templates[0].Components[2].Buttons[0].Example)
	})
	t.Run("break stops fetching", func(t *testing.T) {
		before := len(api.Filter("templates"))
		for range c.Templates(t.Context(), acct, &whatsapp.TemplateQuery{Page: whatsapp.Page{Limit: 1}}) {
			break
		}
		assert.Len(t, api.Filter("templates"), before+1)
	})
	t.Run("error is yielded", func(t *testing.T) {
		var got error
		for _, err := range c.Templates(t.Context(), whatsapp.Account{ID: waba, Credentials: whatsapp.StaticToken(tokenB)}, nil) {
			got = err
		}
		require.ErrorIs(t, got, channel.ErrAuth, "another account's token")
	})
}

func TestTemplateGetEditDelete(t *testing.T) {
	c, api, acct := newManaged(t, nil)
	id := api.AddTemplate(waba, whatsapptest.Template{Name: "order_update", Language: "en_US", Category: "UTILITY",
		Components: json.RawMessage(`[{"type":"BODY","text":"Order {{1}} shipped","example":{"body_text":[["A-1"]]}}]`)})
	api.AddTemplate(waba, whatsapptest.Template{Name: "order_update", Language: "es", Category: "UTILITY", Components: json.RawMessage(`[{"type":"BODY","text":"Enviado"}]`)})

	got, err := c.Template(t.Context(), acct, id)
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	assert.Equal(t, "Order {{1}} shipped", got.Components[0].Text)
	r := api.Filter("template")[0]
	assert.Equal(t, "/v25.0/"+id, r.Path)
	assert.Equal(t, "id,name,language,status,category,parameter_format,components,rejected_reason,quality_score", r.Query.Get("fields"))

	err = c.EditTemplate(t.Context(), acct, id, whatsapp.TemplateEdit{Components: []whatsapp.TemplateComponent{
		{Type: whatsapp.ComponentBody, Text: "Order {{1}} is on its way", Example: &whatsapp.TemplateExample{BodyText: [][]string{{"A-1"}}}}}})
	require.NoError(t, err)
	r = api.Filter("template.edit")[0]
	assert.Equal(t, "/v25.0/"+id, r.Path)
	assert.JSONEq(t, `{"components":[{"type":"BODY","text":"Order {{1}} is on its way","example":{"body_text":[["A-1"]]}}]}`, string(r.Body))
	assert.Equal(t, "PENDING", api.Templates(waba)[0].Status, "an edit is reviewed again")

	err = c.EditTemplate(t.Context(), acct, id, whatsapp.TemplateEdit{Components: []whatsapp.TemplateComponent{{Type: whatsapp.ComponentBody, Text: "{{2}}"}}})
	require.ErrorIs(t, err, channel.ErrInvalidMessage)
	assert.Contains(t, err.Error(), "{{1}} is missing")
	require.ErrorIs(t, c.EditTemplate(t.Context(), acct, id, whatsapp.TemplateEdit{}), channel.ErrInvalidMessage)
	assert.Len(t, api.Filter("template.edit"), 1)

	require.NoError(t, c.DeleteTemplate(t.Context(), acct, "order_update", id))
	r = api.Filter("template.delete")[0]
	assert.Equal(t, "/v25.0/"+waba+"/message_templates", r.Path)
	assert.Equal(t, "hsm_id="+id+"&name=order_update", r.Query.Encode())
	require.Len(t, api.Templates(waba), 1, "only the one with that id")
	require.NoError(t, c.DeleteTemplate(t.Context(), acct, "order_update", ""))
	assert.Equal(t, "name=order_update", api.Filter("template.delete")[1].Query.Encode())
	assert.Empty(t, api.Templates(waba))

	err = c.DeleteTemplate(t.Context(), acct, "order_update", "")
	var ge *whatsapp.GraphError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 100, ge.Code)
	require.ErrorIs(t, c.DeleteTemplate(t.Context(), acct, "Order Update", ""), channel.ErrInvalidMessage)
}

func TestManagementRetries(t *testing.T) {
	c, api, acct := newManaged(t, &whatsapp.Options{MaxAttempts: 3})
	api.ScriptManagement(whatsapptest.GraphError(http.StatusServiceUnavailable, 2, 0, "Service temporarily unavailable"),
		whatsapptest.GraphError(http.StatusTooManyRequests, 80007, 0, "Rate limit hit"))
	_, err := c.ListTemplates(t.Context(), acct, nil)
	require.NoError(t, err)
	assert.Len(t, api.Filter("templates"), 3, "unavailable and rate limited are retried")

	api.ScriptManagement(whatsapptest.GraphError(http.StatusBadRequest, 100, 0, "Invalid parameter"))
	_, err = c.ListTemplates(t.Context(), acct, nil)
	require.ErrorIs(t, err, channel.ErrInvalidMessage)
	assert.Len(t, api.Filter("templates"), 4, "an invalid request is not retried")

	api.ScriptManagement(whatsapptest.Response{Hang: true})
	_, err = c.ListTemplates(t.Context(), acct, nil)
	require.NoError(t, err, "a read whose outcome is unknown is repeated")
	assert.Len(t, api.Filter("templates"), 6)

	api.ScriptManagement(whatsapptest.Response{Hang: true})
	_, err = c.CreateTemplate(t.Context(), acct, must(fullTemplate().Build()))
	require.ErrorIs(t, err, whatsapp.ErrUncertain, "a create whose outcome is unknown is not repeated")
	assert.Len(t, api.Filter("template.create"), 1)
}

func TestPhoneNumbers(t *testing.T) {
	c, api, acct := newManaged(t, nil)
	assert.Equal(t, whatsapp.DefaultThroughput, c.Throughput(highPhone), "the default until the level is known")
	page, err := c.ListPhoneNumbers(t.Context(), acct, &whatsapp.Page{Limit: 1})
	require.NoError(t, err)
	require.Len(t, page.Numbers, 1)
	assert.Equal(t, whatsapp.PhoneNumber{ID: tenant, DisplayPhoneNumber: "+1 555-078-3881", VerifiedName: "Shop A", QualityRating: "GREEN",
		MessagingLimitTier: "TIER_1K", Throughput: whatsapp.Throughput{Level: whatsapp.ThroughputStandard}}, page.Numbers[0])
	assert.NotEmpty(t, page.After)
	r := api.Filter("phone_numbers")[0]
	assert.Equal(t, "/v25.0/"+waba+"/phone_numbers", r.Path)
	assert.Equal(t, "fields=id%2Cdisplay_phone_number%2Cverified_name%2Cquality_rating%2Cmessaging_limit_tier%2Cthroughput%7Blevel%7D&limit=1", r.Query.Encode())

	var all []whatsapp.PhoneNumber
	for n, err := range c.PhoneNumbers(t.Context(), acct, &whatsapp.Page{Limit: 1}) {
		require.NoError(t, err)
		all = append(all, n)
	}
	require.Len(t, all, 2)
	assert.Equal(t, whatsapp.ThroughputHigh, all[1].Throughput.Level)
	assert.Equal(t, whatsapp.MaxThroughput, c.Throughput(highPhone), "the limiter follows the HIGH level")
	assert.Equal(t, whatsapp.DefaultThroughput, c.Throughput(tenant))

	t.Run("quality webhook upgrades the throughput", func(t *testing.T) {
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{Account: c.Observe}})
		body := fixture(t, "account_phone_quality") // display number 15550783881: the first number
		require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
		assert.Equal(t, whatsapp.MaxThroughput, c.Throughput(tenant))
	})
}

// TestThroughputLevelPaces sends from two numbers at a configured
// throughput of 1 per second: the STANDARD number's second message waits
// for its turn, while the number listed as HIGH sends a burst of 20
// without waiting.
func TestThroughputLevelPaces(t *testing.T) {
	c, _, acct := newManaged(t, &whatsapp.Options{Throughput: 1, PairBurst: 100})
	send := func(from channel.TenantID, n int) {
		for i := range n {
			_, err := c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: from, User: channel.UserID(fmt.Sprintf("1650555%04d", i))}, Text: "hi"})
			require.NoError(t, err)
		}
	}
	_, err := c.ListPhoneNumbers(t.Context(), acct, nil)
	require.NoError(t, err)
	require.Equal(t, whatsapp.MaxThroughput, c.Throughput(highPhone))
	require.Equal(t, 1, c.Throughput(tenant), "STANDARD is the configured throughput")
	send(highPhone, 20)
	assert.Zero(t, c.Stats().ThroughputWaits, "at 1000 per second, 20 sends do not wait")
	send(tenant, 2)
	assert.Positive(t, c.Stats().ThroughputWaits, "at 1 per second, the second send waits")
}

func TestBusinessProfile(t *testing.T) {
	c, api, acct := newManaged(t, nil)
	p, err := c.BusinessProfile(t.Context(), acct, tenant)
	require.NoError(t, err)
	assert.Equal(t, whatsapp.BusinessProfile{About: "Fresh bread daily", Websites: []string{"https://shop-a.example"}, Vertical: "RETAIL"}, p)
	r := api.Filter("profile")[0]
	assert.Equal(t, "/v25.0/"+string(tenant)+"/whatsapp_business_profile", r.Path)
	assert.Equal(t, "about,address,description,email,profile_picture_url,websites,vertical", r.Query.Get("fields"))

	require.NoError(t, c.UpdateBusinessProfile(t.Context(), acct, tenant, whatsapp.ProfileUpdate{About: "Open 7-19", Email: "hi@shop-a.example",
		Websites: []string{"https://shop-a.example", "https://shop-a.example/es"}}))
	r = api.Filter("profile.update")[0]
	assert.JSONEq(t, `{"messaging_product":"whatsapp","about":"Open 7-19","email":"hi@shop-a.example","websites":["https://shop-a.example","https://shop-a.example/es"]}`, string(r.Body))
	got, _ := api.ProfileOf(string(tenant))
	assert.Equal(t, "Open 7-19", got.About)
	assert.Equal(t, "RETAIL", got.Vertical, "fields not sent stay")

	for _, tt := range []struct {
		name string
		u    whatsapp.ProfileUpdate
		rule string
	}{
		{"about too long", whatsapp.ProfileUpdate{About: strings.Repeat("a", 140)}, "about is 140 characters, more than 139"},
		{"three websites", whatsapp.ProfileUpdate{Websites: []string{"https://a.example", "https://b.example", "https://c.example"}}, "3 websites, at most 2"},
		{"website not a URL", whatsapp.ProfileUpdate{Websites: []string{"shop.example"}}, "website 0 must be an http or https URL"},
		{"email", whatsapp.ProfileUpdate{Email: "nobody"}, "email is not an email address"},
		{"nothing", whatsapp.ProfileUpdate{}, "changes nothing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := c.UpdateBusinessProfile(t.Context(), acct, tenant, tt.u)
			require.ErrorIs(t, err, channel.ErrInvalidMessage)
			assert.Contains(t, err.Error(), tt.rule)
		})
	}
	assert.Len(t, api.Filter("profile.update"), 1)

	t.Run("profile photo by resumable upload", func(t *testing.T) {
		photo := []byte("\xff\xd8\xff\xe0 fake jpeg bytes")
		require.NoError(t, c.SetProfilePhoto(t.Context(), acct, appID, tenant, photo, "image/jpeg"))
		open := api.Filter("upload.session")
		require.Len(t, open, 1)
		assert.Equal(t, "/v25.0/"+appID+"/uploads", open[0].Path)
		assert.Equal(t, fmt.Sprintf("file_length=%d&file_type=image%%2Fjpeg", len(photo)), open[0].Query.Encode())
		assert.Equal(t, "Bearer "+wabaToken, open[0].Header.Get("Authorization"))
		up := api.Filter("upload.file")
		require.Len(t, up, 1)
		assert.True(t, strings.HasPrefix(up[0].Path, "/v25.0/upload:"))
		assert.NotEmpty(t, up[0].Query.Get("sig"), "the session id's signature is kept")
		assert.Equal(t, "OAuth "+wabaToken, up[0].Header.Get("Authorization"))
		assert.Equal(t, "0", up[0].Header.Get("File_offset"))
		assert.Equal(t, photo, up[0].Body)
		upd := api.Filter("profile.update")
		var body struct {
			MessagingProduct     string `json:"messaging_product"`
			ProfilePictureHandle string `json:"profile_picture_handle"`
		}
		require.NoError(t, json.Unmarshal(upd[len(upd)-1].Body, &body))
		assert.Equal(t, "whatsapp", body.MessagingProduct)
		u, ok := api.UploadOf(body.ProfilePictureHandle)
		require.True(t, ok, "the handle of the upload")
		assert.Equal(t, photo, u.Content)
		got, _ := api.ProfileOf(string(tenant))
		assert.NotEmpty(t, got.ProfilePictureURL)
	})
	t.Run("upload checks", func(t *testing.T) {
		_, err := c.UploadFile(t.Context(), acct, appID, []byte("x"), "image/gif")
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		_, err = c.UploadFile(t.Context(), acct, appID, nil, "image/png")
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		_, err = c.UploadFile(t.Context(), acct, "../x", []byte("x"), "image/png")
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
}

// TestManagementTenants manages two business accounts from one client,
// each with its own token, and checks that the tokens never reach logs,
// errors or the printed accounts.
func TestManagementTenants(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var infos []whatsapp.RequestInfo
	c, api, acctA := newManaged(t, &whatsapp.Options{Logger: log, Hooks: whatsapp.Hooks{Request: func(i whatsapp.RequestInfo) { infos = append(infos, i) }}})
	acctB := whatsapp.Account{ID: wabaB, Credentials: whatsapp.StaticToken(tokenB)}
	addTemplates(api, 1)
	api.AddTemplate(wabaB, whatsapptest.Template{Name: "b_only", Language: "en_US", Category: "UTILITY"})

	pa, err := c.ListTemplates(t.Context(), acctA, nil)
	require.NoError(t, err)
	pb, err := c.ListTemplates(t.Context(), acctB, nil)
	require.NoError(t, err)
	assert.Equal(t, "tpl_00", pa.Templates[0].Name)
	require.Len(t, pb.Templates, 1)
	assert.Equal(t, "b_only", pb.Templates[0].Name, "each account sees its own templates")
	reqs := api.Filter("templates")
	assert.Equal(t, "Bearer "+wabaToken, reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "Bearer "+tokenB, reqs[1].Header.Get("Authorization"))

	var errs []error
	// A's token on B's account, B's on A's numbers, and an unknown token.
	_, err = c.ListTemplates(t.Context(), whatsapp.Account{ID: wabaB, Credentials: whatsapp.StaticToken(wabaToken)}, nil)
	require.ErrorIs(t, err, channel.ErrAuth)
	errs = append(errs, err)
	_, err = c.BusinessProfile(t.Context(), acctB, tenant)
	require.ErrorIs(t, err, channel.ErrAuth)
	errs = append(errs, err)
	_, err = c.ListPhoneNumbers(t.Context(), whatsapp.Account{ID: waba, Credentials: whatsapp.StaticToken("expired-token-0000")}, nil)
	require.ErrorIs(t, err, channel.ErrAuth)
	errs = append(errs, err)
	// The client's own credentials, asked for the account id.
	_, err = c.ListTemplates(t.Context(), whatsapp.Account{ID: waba}, nil)
	require.ErrorIs(t, err, channel.ErrAuth, "the client's token is not the account's")
	errs = append(errs, err)
	assert.Equal(t, channel.TenantID(waba), infos[0].Tenant)
	assert.Equal(t, "templates", infos[0].Op)

	log.Info("accounts", "a", acctA, "b", acctB)
	printed := fmt.Sprintf("%v %+v %#v %s", acctA, acctB, acctA, acctB)
	for _, secret := range []string{wabaToken, tokenB, "expired-token-0000", token} {
		assert.NotContains(t, logs.String(), secret)
		assert.NotContains(t, printed, secret)
		for _, err := range errs {
			assert.NotContains(t, err.Error(), secret)
		}
	}
}

// TestTemplateCheck sends templates with Options.Accounts set: what the
// cached template list rules out never reaches the send endpoint.
func TestTemplateCheck(t *testing.T) {
	c, api, acct := newManaged(t, nil)
	c2, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{BaseURL: api.URL, RetryDelay: 1, Logger: slog.New(slog.DiscardHandler),
		Accounts: whatsapp.AccountMap{tenant: acct}})
	require.NoError(t, err)
	api.AddTemplate(waba, whatsapptest.Template{Name: "order_update", Language: "en_US", Category: "UTILITY",
		Components: json.RawMessage(`[{"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["A-1"]}},
			{"type":"BODY","text":"Hi {{1}}, order {{2}} shipped.","example":{"body_text":[["Ana","A-1"]]}},
			{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},{"type":"URL","text":"Track","url":"https://shop.example/t/{{1}}","example":["https://shop.example/t/A-1"]}]}]`)})
	api.AddTemplate(waba, whatsapptest.Template{Name: "welcome", Language: "es", Category: "MARKETING", ParameterFormat: "NAMED",
		Components: json.RawMessage(`[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::x"]}},{"type":"BODY","text":"Hola {{first_name}}","example":{"body_text_named_params":[{"param_name":"first_name","example":"Ana"}]}}]`)})
	api.AddTemplate(waba, whatsapptest.Template{Name: "login_code", Language: "en_US", Category: "AUTHENTICATION",
		Components: json.RawMessage(`[{"type":"BODY","text":"*{{1}}* is your verification code."},{"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"COPY_CODE","text":"Copy code"}]}]`)})
	api.AddTemplate(waba, whatsapptest.Template{Name: "coupon", Language: "en_US", Category: "MARKETING",
		Components: json.RawMessage(`[{"type":"BODY","text":"10% off"},{"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":"SAVE10"}]}]`)})
	api.AddTemplate(waba, whatsapptest.Template{Name: "pending_one", Language: "en_US", Category: "UTILITY", Status: "PENDING",
		Components: json.RawMessage(`[{"type":"BODY","text":"Hi"}]`)})

	good := func() *channel.Template {
		return &channel.Template{Name: "order_update", Language: "en_US", Header: &channel.TemplateHeader{Text: "A-1"},
			Params:  []channel.TemplateParam{{Value: "Ana"}, {Value: "A-1"}},
			Buttons: []channel.TemplateButton{{Index: 1, URLSuffix: "A-1"}}}
	}
	send := func(tp *channel.Template) error {
		_, err := c2.Send(t.Context(), channel.Outbound{To: to(waID), Template: tp})
		return err
	}
	require.NoError(t, send(good()))
	require.Len(t, api.Sent(), 1)
	require.NoError(t, send(&channel.Template{Name: "welcome", Language: "es", Header: &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Image, ID: "123"}},
		Params: []channel.TemplateParam{{Name: "first_name", Value: "Ana"}}}))
	require.Len(t, api.Sent(), 2)
	otp := func() *channel.Template {
		return &channel.Template{Name: "login_code", Language: "en_US", Params: []channel.TemplateParam{{Value: "123456"}},
			Buttons: []channel.TemplateButton{{Index: 0, URLSuffix: "123456"}}}
	}
	require.NoError(t, send(otp()), "an authentication template takes the code as body parameter and button suffix")
	require.Len(t, api.Sent(), 3)
	var w struct {
		Template struct {
			Components []struct {
				Type    string `json:"type"`
				SubType string `json:"sub_type"`
			} `json:"components"`
		} `json:"template"`
	}
	require.NoError(t, json.Unmarshal(api.Sent()[2].Body, &w))
	require.Len(t, w.Template.Components, 2)
	assert.Equal(t, "url", w.Template.Components[1].SubType)

	for _, tt := range []struct {
		name string
		edit func(*channel.Template)
		kind error
		says string
	}{
		{"unknown name", func(tp *channel.Template) { tp.Name = "nope" }, whatsapp.ErrTemplateNotFound, `template "nope" does not exist`},
		{"unknown language", func(tp *channel.Template) { tp.Language = "fr" }, whatsapp.ErrTemplateNotFound, `has no "fr" translation`},
		{"not approved", func(tp *channel.Template) { *tp = channel.Template{Name: "pending_one", Language: "en_US"} }, whatsapp.ErrTemplateNotApproved, "is PENDING"},
		{"too few params", func(tp *channel.Template) { tp.Params = tp.Params[:1] }, whatsapp.ErrTemplateParams, "body has 2 variables, the message gives 1"},
		{"named params for positional", func(tp *channel.Template) {
			tp.Params = []channel.TemplateParam{{Name: "a", Value: "x"}, {Name: "b", Value: "y"}}
		},
			whatsapp.ErrTemplateParams, "positional variables, parameter 0 is named"},
		{"no header", func(tp *channel.Template) { tp.Header = nil }, whatsapp.ErrTemplateParams, "text header has a variable"},
		{"missing URL suffix", func(tp *channel.Template) { tp.Buttons = nil }, whatsapp.ErrTemplateParams, "URL button 1 ends with a variable"},
		{"button out of range", func(tp *channel.Template) {
			tp.Buttons = append(tp.Buttons, channel.TemplateButton{Index: 2, Payload: "x"})
		},
			whatsapp.ErrTemplateParams, "it has 2 buttons, the message fills button 2"},
		{"media header filled with text", func(tp *channel.Template) {
			*tp = channel.Template{Name: "welcome", Language: "es", Header: &channel.TemplateHeader{Text: "x"}, Params: []channel.TemplateParam{{Name: "first_name", Value: "Ana"}}}
		}, whatsapp.ErrTemplateParams, "IMAGE header needs media"},
		{"unknown named param", func(tp *channel.Template) {
			*tp = channel.Template{Name: "welcome", Language: "es", Header: &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Image, ID: "1"}},
				Params: []channel.TemplateParam{{Name: "last_name", Value: "Ana"}}}
		}, whatsapp.ErrTemplateParams, "no variable {{last_name}}"},
		{"OTP without code", func(tp *channel.Template) { *tp = *otp(); tp.Buttons = nil }, whatsapp.ErrTemplateParams, "OTP button 0 needs the code"},
		{"copy-code button", func(tp *channel.Template) { *tp = channel.Template{Name: "coupon", Language: "en_US"} }, whatsapp.ErrTemplateParams,
			"copy-code button 0 needs a coupon code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tp := good()
			tt.edit(tp)
			err := send(tp)
			require.ErrorIs(t, err, tt.kind)
			require.ErrorIs(t, err, channel.ErrInvalidMessage)
			assert.Contains(t, err.Error(), tt.says)
			assert.Len(t, api.Sent(), 3, "nothing is sent")
		})
	}
	assert.Len(t, api.Filter("templates"), 1, "the list is fetched once; misses within DefaultTemplateRefresh do not fetch it again")

	t.Run("status webhook refreshes the cache", func(t *testing.T) {
		require.True(t, api.SetTemplateStatus(waba, "order_update", "en_US", "PAUSED"))
		require.NoError(t, send(good()), "the cached list still says APPROVED")
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{Account: c2.Observe}})
		body := fixture(t, "account_template_paused")
		require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
		err := send(good())
		require.ErrorIs(t, err, whatsapp.ErrTemplateNotApproved)
		assert.Contains(t, err.Error(), "is PAUSED")
		assert.Len(t, api.Filter("templates"), 2)
	})
	t.Run("unknown number", func(t *testing.T) {
		_, err := c2.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: highPhone, User: waID}, Template: good()})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Contains(t, err.Error(), "no business account")
	})
	t.Run("list failure fails the send", func(t *testing.T) {
		c3, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{BaseURL: api.URL, MaxAttempts: 1, Logger: slog.New(slog.DiscardHandler),
			Accounts: whatsapp.AccountMap{tenant: {ID: waba, Credentials: whatsapp.StaticToken(tokenB)}}})
		require.NoError(t, err)
		_, err = c3.Send(t.Context(), channel.Outbound{To: to(waID), Template: good()})
		require.ErrorIs(t, err, channel.ErrAuth)
	})
	t.Run("without Accounts the API judges", func(t *testing.T) {
		before := len(api.Sent())
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Template: &channel.Template{Name: "nope", Language: "en_US"}})
		require.NoError(t, err)
		assert.Len(t, api.Sent(), before+1)
	})
}

func TestAccountEvents(t *testing.T) {
	at := msgTime
	for _, tt := range []struct {
		fixture string
		want    whatsapp.AccountEvent
	}{
		{"template_status_update", whatsapp.AccountEvent{Account: waba, Time: at, Field: whatsapp.FieldTemplateStatus,
			TemplateStatus: &whatsapp.TemplateStatusUpdate{TemplateRef: whatsapp.TemplateRef{ID: "594425479261596", Name: "order_update", Language: "en_US"},
				Event: whatsapp.TemplateApproved, Reason: "NONE"}}},
		{"account_template_paused", whatsapp.AccountEvent{Account: waba, Time: at, Field: whatsapp.FieldTemplateStatus,
			TemplateStatus: &whatsapp.TemplateStatusUpdate{TemplateRef: whatsapp.TemplateRef{ID: "594425479261596", Name: "order_update", Language: "en_US"},
				Event: whatsapp.TemplatePaused, Title: "FIRST_PAUSE",
				Description: "Your WhatsApp message template has been paused for 3 hours until Feb 12 at 3:00 PM UTC because it had issues."}}},
		{"account_template_quality", whatsapp.AccountEvent{Account: waba, Time: at, Field: whatsapp.FieldTemplateQuality,
			TemplateQuality: &whatsapp.TemplateQualityUpdate{TemplateRef: whatsapp.TemplateRef{ID: "594425479261596", Name: "order_update", Language: "en_US"},
				PreviousScore: "GREEN", NewScore: "YELLOW"}}},
		{"account_template_category", whatsapp.AccountEvent{Account: waba, Time: at, Field: whatsapp.FieldTemplateCategory,
			TemplateCategory: &whatsapp.TemplateCategoryUpdate{TemplateRef: whatsapp.TemplateRef{ID: "594425479261596", Name: "order_update", Language: "en_US"},
				PreviousCategory: whatsapp.TemplateUtility, NewCategory: whatsapp.TemplateMarketing}}},
		{"account_phone_quality", whatsapp.AccountEvent{Account: waba, Time: at, Field: whatsapp.FieldPhoneQuality,
			PhoneQuality: &whatsapp.PhoneQualityUpdate{DisplayPhoneNumber: "15550783881", Event: "THROUGHPUT_UPGRADE", CurrentLimit: "TIER_UNLIMITED", MaxDailyConversations: "UNLIMITED"}}},
		{"account_update", whatsapp.AccountEvent{Account: waba, Time: at, Field: whatsapp.FieldAccountUpdate,
			AccountUpdate: &whatsapp.AccountUpdate{Event: "ACCOUNT_RESTRICTION", PhoneNumber: "15550783881",
				Restrictions: []whatsapp.AccountRestriction{{Type: "RESTRICTED_BIZ_INITIATED_MESSAGING", Expiration: msgTime.Add(7 * 24 * 3600e9)}}}}},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			var got []whatsapp.AccountEvent
			var ignored []whatsapp.IgnoredInfo
			h := newWebhook(t, recv, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{
				Account: func(e whatsapp.AccountEvent) { got = append(got, e) },
				Ignored: func(i whatsapp.IgnoredInfo) { ignored = append(ignored, i) },
			}})
			body := fixture(t, tt.fixture)
			require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0])
			assert.Empty(t, recv.Calls(), "no messages to record")
			require.Len(t, ignored, 1, "still reported as a change without messages")
			assert.Equal(t, tt.want.Field, ignored[0].Field)
		})
	}
	t.Run("unknown field is acknowledged and ignored", func(t *testing.T) {
		var got []whatsapp.AccountEvent
		var ignored []whatsapp.IgnoredInfo
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{
			Account: func(e whatsapp.AccountEvent) { got = append(got, e) },
			Ignored: func(i whatsapp.IgnoredInfo) { ignored = append(ignored, i) },
		}})
		body := fixture(t, "account_unknown_field")
		require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
		assert.Empty(t, got)
		require.Len(t, ignored, 1)
		assert.Equal(t, "business_capability_update", ignored[0].Field)
	})
	t.Run("unsigned is refused", func(t *testing.T) {
		var got []whatsapp.AccountEvent
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{Account: func(e whatsapp.AccountEvent) { got = append(got, e) }}})
		body := fixture(t, "account_update")
		require.Equal(t, http.StatusUnauthorized, post(h, body, whatsapptest.Sign(body, "wrong")).Code)
		assert.Empty(t, got)
	})
}

// TestTemplateCheckConcurrent sends templates from many goroutines at
// once with a cold cache: the list is fetched once for all of them.
func TestTemplateCheckConcurrent(t *testing.T) {
	_, api, acct := newManaged(t, nil)
	api.AddTemplate(waba, whatsapptest.Template{Name: "hello", Language: "en_US", Category: "UTILITY", Components: json.RawMessage(`[{"type":"BODY","text":"Hello"}]`)})
	c, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{BaseURL: api.URL, Logger: slog.New(slog.DiscardHandler),
		PairBurst: 100, Accounts: whatsapp.AccountMap{tenant: acct}})
	require.NoError(t, err)
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := c.Send(t.Context(), channel.Outbound{To: to(fmt.Sprintf("1650555%04d", i)), Template: &channel.Template{Name: "hello", Language: "en_US"}})
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	assert.Len(t, api.Sent(), n)
	assert.Len(t, api.Filter("templates"), 1, "concurrent checks share one fetch")
}

// The upload of a file at offset 0 is idempotent: repeating it after the
// connection dropped cannot store the file twice, so it is repeated, with
// the OAuth scheme and the offset header each time.
func TestUploadRepeatedAfterHangUp(t *testing.T) {
	var api *whatsapptest.Server
	var ops []string
	c, api, acct := newManaged(t, &whatsapp.Options{MaxAttempts: 3, RetryDelay: time.Millisecond, Hooks: whatsapp.Hooks{Request: func(r whatsapp.RequestInfo) {
		ops = append(ops, fmt.Sprintf("%s#%d uncertain=%t", r.Op, r.Attempt, errors.Is(r.Err, whatsapp.ErrUncertain)))
		if r.Op == "upload.session" {
			api.ScriptManagement(whatsapptest.Response{Hang: true})
		}
	}}})
	data := []byte("\xff\xd8\xff\xe0 fake jpeg bytes")
	h, err := c.UploadFile(t.Context(), acct, appID, data, "image/jpeg")
	require.NoError(t, err, "the upload is repeated after the hang-up")
	assert.Equal(t, []string{"upload.session#1 uncertain=false", "upload.file#1 uncertain=true", "upload.file#2 uncertain=false"}, ops)
	up := api.Filter("upload.file")
	require.Len(t, up, 2)
	for _, r := range up {
		assert.Equal(t, "OAuth "+wabaToken, r.Header.Get("Authorization"))
		assert.Equal(t, "0", r.Header.Get("File_offset"))
		assert.Equal(t, data, r.Body)
	}
	u, ok := api.UploadOf(h)
	require.True(t, ok)
	assert.Equal(t, data, u.Content)
	assert.Equal(t, int64(1), c.Stats().Retries)
}
