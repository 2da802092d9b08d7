package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemoServes(t *testing.T) {
	h, a, w, err := newServer("http://127.0.0.1:8080", false)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, w.Close(ctx))
		srv.Close()
		require.NoError(t, a.Shutdown(ctx))
	})
	for path, want := range map[string]string{
		"/":                                     `<script src="/chat/widget.js" data-site="tienda-sol" async></script>`,
		"/chat/widget.js":                       "wagent web widget",
		"/chat/config?site=tienda-sol&x=direct": "", // no Origin and not same-origin: refused
	} {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want == "" {
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
			continue
		}
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.True(t, strings.Contains(string(body), want), path)
	}
}
