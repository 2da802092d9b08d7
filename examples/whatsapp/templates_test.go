package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const businessAccountID = "102290129340398"

// TestTemplatesCommand lists, creates and deletes templates against the
// fake Cloud API, which requires appsecret_proof and the account's token.
func TestTemplatesCommand(t *testing.T) {
	api := whatsapptest.NewServer(token, appSecret)
	defer api.Close()
	api.AddAccount(whatsapptest.Account{ID: businessAccountID, Token: token})
	api.AddTemplate(businessAccountID, whatsapptest.Template{Name: "hello_world", Language: "en_US", Category: "UTILITY",
		Components: json.RawMessage(`[{"type":"BODY","text":"Hello World"}]`)})
	getenv := env(api.URL, map[string]string{"WHATSAPP_BUSINESS_ACCOUNT_ID": businessAccountID})
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := templates(t.Context(), args, getenv, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := run("list")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `hello_world\s+en_US\s+UTILITY\s+APPROVED\s+\d+`, out)
	assert.Contains(t, out, "1 templates")

	file := filepath.Join(t.TempDir(), "order_update.json")
	require.NoError(t, os.WriteFile(file, []byte(`{
  "name": "order_update",
  "language": "en_US",
  "category": "UTILITY",
  "components": [
    {"type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped.", "example": {"body_text": [["Ana", "A-1234"]]}},
    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]}
  ]
}`), 0o600))
	code, out, errOut = run("create", file)
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `created order_update en_US: id \d+, PENDING`, out)
	reqs := api.Filter("template.create")
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v25.0/"+businessAccountID+"/message_templates", reqs[0].Path)
	assert.JSONEq(t, `{"name":"order_update","language":"en_US","category":"UTILITY","components":[
		{"type":"BODY","text":"Hi {{1}}, order {{2}} has shipped.","example":{"body_text":[["Ana","A-1234"]]}},
		{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Thanks"}]}]}`, string(reqs[0].Body))

	code, out, _ = run("list")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "order_update")
	assert.Contains(t, out, "PENDING")

	code, out, errOut = run("delete", "hello_world")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "deleted hello_world")
	q := api.Filter("template.delete")[0].Query
	assert.Equal(t, "hello_world", q.Get("name"))
	assert.NotEmpty(t, q.Get("appsecret_proof"))
	assert.Len(t, q, 2, "name and appsecret_proof only")

	t.Run("invalid file names the rule", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(bad, []byte(`{"name":"Bad Name","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"{{2}}"}]}`), 0o600))
		code, _, errOut := run("create", bad)
		assert.Equal(t, exitConfig, code)
		assert.Contains(t, errOut, "name: only lower-case letters, digits and underscores")
		assert.Contains(t, errOut, "{{1}} is missing")
		assert.Len(t, api.Filter("template.create"), 1, "nothing was sent")
	})
	t.Run("unknown field in file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(bad, []byte(`{"name":"x","langauge":"en"}`), 0o600))
		code, _, errOut := run("create", bad)
		assert.Equal(t, exitConfig, code)
		assert.Contains(t, errOut, "is not a template")
	})
	t.Run("api failure", func(t *testing.T) {
		code, _, errOut := run("delete", "no_such_template")
		assert.Equal(t, exitFailed, code)
		assert.Contains(t, errOut, "deleting the template")
		assert.NotContains(t, errOut, token)
	})
	t.Run("usage and settings", func(t *testing.T) {
		code, _, errOut := run()
		assert.Equal(t, exitConfig, code)
		assert.Contains(t, errOut, "usage: whatsapp templates list")
		code, _, _ = run("remove", "x")
		assert.Equal(t, exitConfig, code)
		var out, e bytes.Buffer
		code = templates(t.Context(), []string{"list"}, env(api.URL, map[string]string{"WHATSAPP_ACCESS_TOKEN": ""}), &out, &e)
		assert.Equal(t, exitConfig, code)
		assert.Contains(t, e.String(), "WHATSAPP_ACCESS_TOKEN")
		assert.Contains(t, e.String(), "WHATSAPP_BUSINESS_ACCOUNT_ID")
	})
}
