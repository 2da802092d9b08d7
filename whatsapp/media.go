package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
)

// MediaLimit returns the largest size in bytes the Cloud API accepts for
// media of the MIME type mimeType (parameters such as "; codecs=opus" are
// ignored), and false when it does not accept the type: images (JPEG, PNG:
// 5 MB), stickers (WebP: 500 KB), audio (AAC, AMR, MP3, MP4, OGG/Opus: 16
// MB), video (MP4, 3GPP: 16 MB) and documents (text, PDF, Office: 100 MB).
func MediaLimit(mimeType string) (int64, bool) {
	base, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		return 0, false
	}
	switch base {
	case "image/jpeg", "image/png":
		return 5 << 20, true
	case "image/webp": // stickers: 100 KB static, 500 KB animated
		return 500 << 10, true
	case "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", // OGG: Opus codec only
		"video/mp4", "video/3gpp":
		return 16 << 20, true
	case "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return 100 << 20, true
	}
	return 0, false
}

// Upload uploads media for tenant's messages and returns its media id,
// valid for 30 days, to send in [channel.Media.ID]. It checks mimeType and
// the size of r against the Cloud API's limits (see [MediaLimit]) and
// returns an error wrapping [channel.ErrInvalidMessage] when they are
// broken. The content is read into memory first, at most the limit of its
// type, so that the upload can be retried like a send.
func (c *Client) Upload(ctx context.Context, tenant channel.TenantID, mimeType, filename string, r io.Reader) (string, error) {
	if !validTenant(tenant) {
		return "", invalidf("upload needs a tenant (a phone_number_id)")
	}
	limit, ok := MediaLimit(mimeType)
	if !ok {
		return "", invalidf("media type %q is not accepted by the cloud api", mimeType)
	}
	if filename == "" {
		filename = "file"
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("messaging_product", "whatsapp")
	_ = w.WriteField("type", mimeType)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+quoteEscaper.Replace(filename)+`"`)
	h.Set("Content-Type", mimeType)
	part, err := w.CreatePart(h)
	if err != nil {
		return "", fmt.Errorf("whatsapp: upload: %w", err)
	}
	n, err := io.Copy(part, io.LimitReader(r, limit+1))
	if err != nil {
		return "", fmt.Errorf("whatsapp: upload: reading the media: %w", err)
	}
	if n > limit {
		return "", invalidf("media of type %q is larger than the %d bytes the cloud api accepts", mimeType, limit)
	}
	if n == 0 {
		return "", invalidf("media is empty")
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("whatsapp: upload: %w", err)
	}
	var resp struct {
		ID string `json:"id"`
	}
	_, err = c.call(ctx, call{
		op: "upload", tenant: tenant, method: http.MethodPost, path: "/" + string(tenant) + "/media",
		body: buf.Bytes(), contentType: w.FormDataContentType(), attempts: c.maxAttempts,
	}, &resp)
	if err != nil {
		return "", err
	}
	if resp.ID == "" {
		return "", &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, HTTPStatus: http.StatusOK, Err: fmt.Errorf("%w: the answer has no media id", ErrUncertain)}
	}
	return resp.ID, nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// mediaInfo is the answer of GET /{media-id}.
type mediaInfo struct {
	URL      string      `json:"url"`
	MIMEType string      `json:"mime_type"`
	SHA256   string      `json:"sha256"`
	FileSize json.Number `json:"file_size"`
	ID       string      `json:"id"`
}

// FetchMedia implements [channel.MediaFetcher]: it resolves m.ID, received
// by tenant, to its short-lived URL, and opens the download with tenant's
// access token. When the URL has expired by the time it is used (the
// download is refused with 401, 403, 404 or 410), the id is resolved once
// more. The reader returned fails with an error wrapping
// [channel.ErrInvalidMessage] when the content exceeds Options.MaxMediaBytes
// or, at its end, when its SHA-256 differs from m.SHA256 (or the one the API
// gave); read it to the end before trusting it. Media larger than the cap
// by its declared size is refused before the download.
func (c *Client) FetchMedia(ctx context.Context, tenant channel.TenantID, m channel.Media) (io.ReadCloser, error) {
	if !validTenant(tenant) || m.ID == "" {
		return nil, invalidf("fetching media needs a tenant (a phone_number_id) and a media id")
	}
	if m.Size > c.maxMediaBytes {
		return nil, invalidf("media of %d bytes is larger than the %d allowed", m.Size, c.maxMediaBytes)
	}
	for resolved := 0; ; resolved++ {
		var info mediaInfo
		_, err := c.call(ctx, call{
			op: "media", tenant: tenant, method: http.MethodGet,
			path:     "/" + url.PathEscape(m.ID) + "?phone_number_id=" + url.QueryEscape(string(tenant)),
			attempts: c.maxAttempts, idempotent: true,
		}, &info)
		if err != nil {
			return nil, err
		}
		if info.URL == "" {
			return nil, &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, Err: errors.New("whatsapp: the media has no url")}
		}
		if size, err := info.FileSize.Int64(); err == nil && size > c.maxMediaBytes {
			return nil, invalidf("media of %d bytes is larger than the %d allowed", size, c.maxMediaBytes)
		}
		r, err := c.call(ctx, call{
			op: "download", tenant: tenant, method: http.MethodGet, rawURL: info.URL,
			attempts: c.maxAttempts, idempotent: true, stream: true,
		}, nil)
		var ce *channel.Error
		if errors.As(err, &ce) && resolved == 0 && expired(ce.HTTPStatus) {
			c.log.LogAttrs(ctx, slog.LevelDebug, "whatsapp: media url expired, resolving again",
				slog.String(logkey.Tenant, string(tenant)), slog.Int(logkey.HTTPStatus, ce.HTTPStatus))
			continue
		}
		if err != nil {
			return nil, err
		}
		if cl := r.header.Get("Content-Length"); cl != "" {
			if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > c.maxMediaBytes {
				r.body.Close()
				return nil, invalidf("media of %d bytes is larger than the %d allowed", n, c.maxMediaBytes)
			}
		}
		want := decodeSHA256(m.SHA256)
		if want == nil {
			want = decodeSHA256(info.SHA256)
		}
		return &mediaReader{rc: r.body, left: c.maxMediaBytes, max: c.maxMediaBytes, want: want, h: sha256.New()}, nil
	}
}

// expired reports whether a download refused with status means the
// short-lived media URL is no longer valid.
func expired(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return true
	}
	return false
}

// decodeSHA256 decodes a SHA-256 given in hex (the media API) or base64
// (webhooks), or returns nil.
func decodeSHA256(s string) []byte {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if len(s) == hex.EncodedLen(sha256.Size) {
		if b, err := hex.DecodeString(s); err == nil {
			return b
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b
		}
	}
	return nil
}

// mediaReader reads a download, capping its size and checking its hash at
// the end.
type mediaReader struct {
	rc   io.ReadCloser
	left int64 // bytes still allowed
	max  int64
	want []byte
	h    hash.Hash
	err  error
}

func (r *mediaReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	r.left -= int64(n)
	if r.left < 0 {
		r.err = invalidf("media is larger than the %d bytes allowed", r.max)
		return 0, r.err
	}
	if err == io.EOF && r.want != nil && !bytes.Equal(r.h.Sum(nil), r.want) {
		r.err = invalidf("media sha256 does not match")
		return n, r.err
	}
	if err != nil {
		if err != io.EOF {
			err = &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, Err: fmt.Errorf("whatsapp: downloading media: %w", err)}
		}
		r.err = err
	}
	return n, err
}

func (r *mediaReader) Close() error { return r.rc.Close() }
