package whatsapp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

func TestUpload(t *testing.T) {
	c, api := newClient(t, nil)
	content := []byte("%PDF-1.7 fake invoice")
	id, err := c.Upload(t.Context(), tenant, "application/pdf", "factura.pdf", bytes.NewReader(content))
	require.NoError(t, err)
	assert.NotEmpty(t, id)

	reqs := api.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/v25.0/"+string(tenant)+"/media", r.Path)
	assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err)
	assert.Equal(t, "multipart/form-data", ct)
	fields := map[string]string{}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, _ := io.ReadAll(p)
		fields[p.FormName()] = string(data)
		if p.FormName() == "file" {
			assert.Equal(t, "factura.pdf", p.FileName())
			assert.Equal(t, "application/pdf", p.Header.Get("Content-Type"))
		}
	}
	assert.Equal(t, map[string]string{"messaging_product": "whatsapp", "type": "application/pdf", "file": string(content)}, fields)

	// What was uploaded can be fetched back.
	rc, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Document, ID: id})
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, content, got)
}

func TestUploadChecksLimits(t *testing.T) {
	tests := []struct {
		name, mime string
		size       int
		want       string
	}{
		{"unknown type", "application/x-msdownload", 10, "not accepted"},
		{"image over 5 MB", "image/jpeg", 5<<20 + 1, "larger than the 5242880 bytes"},
		{"sticker over 500 KB", "image/webp", 500<<10 + 1, "larger than the 512000 bytes"},
		{"empty", "image/png", 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newClient(t, nil)
			_, err := c.Upload(t.Context(), tenant, tt.mime, "f", bytes.NewReader(make([]byte, tt.size)))
			require.ErrorIs(t, err, channel.ErrInvalidMessage)
			assert.ErrorContains(t, err, tt.want)
			assert.Empty(t, api.Requests())
		})
	}
	n, ok := whatsapp.MediaLimit("audio/ogg; codecs=opus")
	assert.True(t, ok)
	assert.Equal(t, int64(16<<20), n)
}

func TestFetchMedia(t *testing.T) {
	content := bytes.Repeat([]byte("jpeg"), 1000)
	sum := sha256.Sum256(content)
	b64 := base64.StdEncoding.EncodeToString(sum[:])

	t.Run("resolves, downloads with the token, verifies", func(t *testing.T) {
		c, api := newClient(t, nil)
		id := api.AddMedia(whatsapptest.Media{Content: content, MIMEType: "image/jpeg"})
		rc, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id, SHA256: b64})
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		assert.Equal(t, content, got)
		reqs := api.Requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, "/v25.0/"+id, reqs[0].Path)
		assert.Equal(t, string(tenant), reqs[0].Query.Get("phone_number_id"))
		assert.Equal(t, "download", reqs[1].Op())
		for _, r := range reqs {
			assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
		}
	})
	t.Run("re-resolves an expired URL once", func(t *testing.T) {
		c, api := newClient(t, nil)
		id := api.AddMedia(whatsapptest.Media{Content: content, MIMEType: "image/jpeg"})
		api.ExpireDownloads(1)
		rc, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id})
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		assert.Equal(t, content, got)
		assert.Len(t, api.Filter("media"), 2)
		assert.Len(t, api.Filter("download"), 2)

		api.ExpireDownloads(2)
		_, err = c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id})
		require.Error(t, err, "only once")
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, http.StatusNotFound, ce.HTTPStatus)
	})
	t.Run("sha256 mismatch", func(t *testing.T) {
		c, api := newClient(t, nil)
		id := api.AddMedia(whatsapptest.Media{Content: content, MIMEType: "image/jpeg"})
		other := sha256.Sum256([]byte("something else"))
		rc, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id, SHA256: base64.StdEncoding.EncodeToString(other[:])})
		require.NoError(t, err)
		defer rc.Close()
		_, err = io.ReadAll(rc)
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.ErrorContains(t, err, "sha256 does not match")
	})
	t.Run("oversize", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxMediaBytes: 100})
		id := api.AddMedia(whatsapptest.Media{Content: content, MIMEType: "image/jpeg"})
		_, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Len(t, api.Filter("download"), 0, "refused by the declared size, before the download")

		_, err = c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id, Size: 101})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
	t.Run("unknown media", func(t *testing.T) {
		c, _ := newClient(t, &whatsapp.Options{MaxAttempts: 1})
		_, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: "404"})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		_, err = c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
}
