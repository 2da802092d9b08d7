package whatsapptest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const (
	token   = "server-token"
	waba    = "102290129340398"
	acctTok = "account-token"
)

type answer struct {
	status int
	body   map[string]any
}

func call(t *testing.T, api *whatsapptest.Server, method, path, auth, contentType, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, api.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), string(data))
	return answer{resp.StatusCode, m}
}

func (a answer) code() float64 {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return c
}

// TestFakeRejectsWhatTheAPIRejects checks that the fake refuses requests
// the Business Management API refuses, so that client tests catch wire
// mistakes.
func TestFakeRejectsWhatTheAPIRejects(t *testing.T) {
	api := whatsapptest.NewServer(token, "")
	defer api.Close()
	api.AddAccount(whatsapptest.Account{ID: waba, Token: acctTok, Numbers: []whatsapptest.PhoneNumber{{ID: "106540352242922", DisplayPhoneNumber: "+1 555-078-3881"}}})
	bearer := "Bearer " + acctTok
	const tpl = `{"name":"a","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi"}]}`
	for _, tt := range []struct {
		name                     string
		method, path, auth, body string
		status                   int
		code                     float64
	}{
		{"unknown token", "GET", "/v25.0/" + waba + "/message_templates", "Bearer nope", "", 401, 190},
		{"another account's token", "GET", "/v25.0/" + waba + "/message_templates", "Bearer " + token, "", 403, 200},
		{"unknown query parameter", "GET", "/v25.0/" + waba + "/message_templates?colour=red", bearer, "", 400, 100},
		{"unknown field", "GET", "/v25.0/" + waba + "/message_templates?fields=name,colour", bearer, "", 400, 100},
		{"bad limit", "GET", "/v25.0/" + waba + "/message_templates?limit=0", bearer, "", 400, 100},
		{"bad cursor", "GET", "/v25.0/" + waba + "/message_templates?after=zz", bearer, "", 400, 100},
		{"create with unknown body field", "POST", "/v25.0/" + waba + "/message_templates", bearer, `{"name":"a","language":"en_US","category":"UTILITY","colour":1,"components":[]}`, 400, 100},
		{"create without components", "POST", "/v25.0/" + waba + "/message_templates", bearer, `{"name":"a","language":"en_US","category":"UTILITY"}`, 400, 100},
		{"create with lower-case category", "POST", "/v25.0/" + waba + "/message_templates", bearer, `{"name":"a","language":"en_US","category":"utility","components":[{"type":"BODY","text":"x"}]}`, 400, 100},
		{"copy code example as array", "POST", "/v25.0/" + waba + "/message_templates", bearer, `{"name":"a","language":"en_US","category":"MARKETING","components":[{"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":["x"]}]}]}`, 400, 100},
		{"delete without name", "DELETE", "/v25.0/" + waba + "/message_templates", bearer, "", 400, 100},
		{"profile without fields", "GET", "/v25.0/106540352242922/whatsapp_business_profile", bearer, "", 400, 100},
		{"profile update without messaging_product", "POST", "/v25.0/106540352242922/whatsapp_business_profile", bearer, `{"about":"x"}`, 400, 100},
		{"profile update with a made-up handle", "POST", "/v25.0/106540352242922/whatsapp_business_profile", bearer, `{"messaging_product":"whatsapp","profile_picture_handle":"4::x"}`, 400, 100},
		{"upload session without type", "POST", "/v25.0/1234/uploads?file_length=3", bearer, "", 400, 100},
		{"upload session of a gif", "POST", "/v25.0/1234/uploads?file_length=3&file_type=image/gif", bearer, "", 400, 100},
		{"phone numbers with an unknown field", "GET", "/v25.0/" + waba + "/phone_numbers?fields=colour", bearer, "", 400, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct := ""
			if tt.body != "" {
				ct = "application/json"
			}
			a := call(t, api, tt.method, tt.path, tt.auth, ct, tt.body)
			assert.Equal(t, tt.status, a.status, a.body)
			assert.Equal(t, tt.code, a.code(), a.body)
		})
	}
	t.Run("create answers like the API, then refuses a duplicate", func(t *testing.T) {
		a := call(t, api, "POST", "/v25.0/"+waba+"/message_templates", bearer, "application/json", tpl)
		require.Equal(t, 200, a.status, a.body)
		assert.Equal(t, "PENDING", a.body["status"])
		assert.Equal(t, "UTILITY", a.body["category"])
		a = call(t, api, "POST", "/v25.0/"+waba+"/message_templates", bearer, "application/json", tpl)
		assert.Equal(t, 400, a.status)
		assert.Equal(t, float64(2388024), a.body["error"].(map[string]any)["error_subcode"])
	})
	t.Run("upload session wants OAuth, the offset and the announced length", func(t *testing.T) {
		a := call(t, api, "POST", "/v25.0/1234/uploads?file_length=3&file_type=image/png", bearer, "", "")
		require.Equal(t, 200, a.status, a.body)
		id := a.body["id"].(string)
		require.True(t, strings.HasPrefix(id, "upload:"))
		assert.Contains(t, id, "?sig=")
		assert.Equal(t, 400, call(t, api, "POST", "/v25.0/"+id, bearer, "", "abc").status, "Bearer is refused")
		req, _ := http.NewRequestWithContext(t.Context(), "POST", api.URL+"/v25.0/"+id, strings.NewReader("ab"))
		req.Header.Set("Authorization", "OAuth "+acctTok)
		req.Header.Set("file_offset", "0")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode, "2 bytes for a session of 3")
		req, _ = http.NewRequestWithContext(t.Context(), "POST", api.URL+"/v25.0/"+id, strings.NewReader("abc"))
		req.Header.Set("Authorization", "OAuth "+acctTok)
		req.Header.Set("file_offset", "0")
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		var h struct{ H string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		u, ok := api.UploadOf(h.H)
		require.True(t, ok)
		assert.Equal(t, []byte("abc"), u.Content)
	})
	t.Run("paging", func(t *testing.T) {
		for _, n := range []string{"b", "c"} {
			api.AddTemplate(waba, whatsapptest.Template{Name: n, Language: "en_US", Category: "UTILITY"})
		}
		a := call(t, api, "GET", "/v25.0/"+waba+"/message_templates?limit=2&fields=name", bearer, "", "")
		require.Equal(t, 200, a.status, a.body)
		assert.Len(t, a.body["data"], 2)
		assert.Equal(t, map[string]any{"name": "a"}, a.body["data"].([]any)[0], "only the fields asked for")
		paging := a.body["paging"].(map[string]any)
		next := paging["next"].(string)
		require.True(t, strings.HasPrefix(next, api.URL+"/v25.0/"+waba+"/message_templates?"))
		a = call(t, api, "GET", strings.TrimPrefix(next, api.URL), bearer, "", "")
		require.Equal(t, 200, a.status, a.body)
		assert.Equal(t, []any{map[string]any{"name": "c"}}, a.body["data"])
		assert.NotContains(t, a.body["paging"], "next", "the last page has no next")
	})
}
