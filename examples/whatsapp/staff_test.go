package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const adminToken = "staff-token-0123456789"

// TestStaffAndPrivacy runs the bot with ADMIN_TOKEN: the privacy admin API
// answers only to the bearer token, the console only behind its login,
// and the privacy engine handles a customer's STOP in chat.
func TestStaffAndPrivacy(t *testing.T) {
	api := whatsapptest.NewServer(token, appSecret)
	defer api.Close()
	b := startBot(t, env(api.URL, map[string]string{"STORE": "memory", "ADMIN_TOKEN": adminToken}))
	assert.Contains(t, b.banner, "staff /console/ and /admin/privacy/")

	call := func(method, path, bearer, accept, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, b.base+path, strings.NewReader(body))
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(data)
	}

	// A customer writes STOP: marketing consent is withdrawn and they are
	// told so, without the model (the echo model would repeat "STOP").
	const user = "US.13491208655302741918"
	b.deliver(t, whatsapptest.TextDelivery(phoneNumberID, "16505551234", user, "wamid.STOP0001", "STOP", time.Now()))
	wctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	sent, err := api.Wait(wctx, "send", 1)
	require.NoError(t, err, b.stderr.String())
	var reply struct {
		Text struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &reply))
	assert.NotEmpty(t, reply.Text.Body)
	assert.NotContains(t, reply.Text.Body, "echo:", "the keyword is answered by the privacy engine, not the model")

	status, _ := call("GET", "/admin/privacy/audit", "", "", "")
	assert.Equal(t, http.StatusUnauthorized, status, "no token, no audit log")
	status, _ = call("GET", "/admin/privacy/audit", "wrong-token-0123456789", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body := call("POST", "/admin/privacy/requests", adminToken, "",
		`{"type": "access", "subject": {"channel": "whatsapp", "id": "`+user+`"}, "tenant": "`+phoneNumberID+`"}`)
	require.Equal(t, http.StatusCreated, status, body)
	var req struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Due    string `json:"due"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &req))
	assert.NotEmpty(t, req.ID)
	status, body = call("GET", "/admin/privacy/audit?tenant="+phoneNumberID, adminToken, "", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "submit_request", "the admin call is in the audit log")

	status, body = call("GET", "/console/", "", "text/html", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, `name="token"`, "the console asks for the token")
	status, body = call("GET", "/console/", adminToken, "text/html", "")
	assert.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, `name="token"`)

	assert.Equal(t, 0, b.stop(t), b.stderr.String())
	assert.NotContains(t, b.stderr.String(), adminToken, "the token is never logged")
}

// TestNoStaffWithoutToken: without ADMIN_TOKEN the admin routes do not
// exist.
func TestNoStaffWithoutToken(t *testing.T) {
	api := whatsapptest.NewServer(token, appSecret)
	defer api.Close()
	b := startBot(t, env(api.URL, map[string]string{"STORE": "memory"}))
	for _, path := range []string{"/admin/privacy/audit", "/console/"} {
		resp, err := http.Get(b.base + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}
