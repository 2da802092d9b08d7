package login_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/examples/internal/login"
)

func TestGate(t *testing.T) {
	g, err := login.New("s3cret", "admin")
	require.NoError(t, err)
	h := g.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, err := g.Operator(r)
		require.NoError(t, err)
		w.Write([]byte("hello " + who))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	get := func(accept string, cookie *http.Cookie) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/", nil)
		req.Header.Set("Accept", accept)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	assert.Equal(t, http.StatusUnauthorized, get("text/html", nil).StatusCode, "a page shows the form")
	assert.Equal(t, "application/json", get("application/json", nil).Header.Get("Content-Type"), "an API call gets JSON")

	post := func(token string) *http.Response {
		resp, err := client.PostForm(srv.URL+"/console/?login", url.Values{"token": {token}})
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	bad := post("wrong")
	assert.Equal(t, http.StatusUnauthorized, bad.StatusCode)
	assert.Empty(t, bad.Cookies())

	good := post("s3cret")
	assert.Equal(t, http.StatusSeeOther, good.StatusCode)
	require.Len(t, good.Cookies(), 1)
	c := good.Cookies()[0]
	assert.True(t, c.HttpOnly)
	assert.NotContains(t, c.Value, "s3cret", "the cookie is not the token")
	assert.Equal(t, http.StatusOK, get("text/html", c).StatusCode)

	forged := &http.Cookie{Name: login.CookieName, Value: strings.Repeat("0", len(c.Value))}
	assert.Equal(t, http.StatusUnauthorized, get("text/html", forged).StatusCode)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/api", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the bearer token works for scripts")

	_, err = login.New("", "admin")
	assert.Error(t, err)
}
