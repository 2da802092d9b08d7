package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

func TestMediaReader(t *testing.T) {
	content := []byte("0123456789")
	sum := sha256.Sum256(content)
	t.Run("ok", func(t *testing.T) {
		r := &mediaReader{rc: io.NopCloser(bytes.NewReader(content)), left: 10, max: 10, want: sum[:], h: sha256.New()}
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, content, got)
	})
	t.Run("over the cap while streaming", func(t *testing.T) {
		r := &mediaReader{rc: io.NopCloser(bytes.NewReader(content)), left: 9, max: 9, h: sha256.New()}
		_, err := io.ReadAll(r)
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
	t.Run("hash mismatch", func(t *testing.T) {
		bad := sha256.Sum256([]byte("x"))
		r := &mediaReader{rc: io.NopCloser(bytes.NewReader(content)), left: 10, max: 10, want: bad[:], h: sha256.New()}
		_, err := io.ReadAll(r)
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
	t.Run("sha256 encodings", func(t *testing.T) {
		assert.Equal(t, sum[:], decodeSHA256(hex.EncodeToString(sum[:])))
		assert.Nil(t, decodeSHA256("not a hash"))
	})
}

func TestRecipientKinds(t *testing.T) {
	for _, s := range []string{"16505551234", "+16505551234"} {
		assert.True(t, isPhone(s), s)
	}
	for _, s := range []string{"US.13491208655302741918", "US.ENT.11815799212886844830", "BR.abcXYZ123"} {
		assert.True(t, isBSUID(s), s)
	}
	for _, s := range []string{"", "1234", "us.123", "US.", "US.12 34", "hello", "US.123."} {
		assert.False(t, isPhone(s) || isBSUID(s), s)
	}
}

func TestLimiterConfiguration(t *testing.T) {
	tests := []struct {
		name       string
		opts       *Options
		throughput int
		pairEvery  time.Duration
		pairBurst  int
	}{
		{"defaults: 80 a second, one message every 6 s to a user in bursts of 45", nil, 80, 6 * time.Second, 45},
		{"the most the cloud api grants", &Options{Throughput: MaxThroughput}, 1000, 6 * time.Second, 45},
		{"configured", &Options{Throughput: 20, PairInterval: time.Second, PairBurst: 3}, 20, time.Second, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(StaticToken("t"), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.throughput, c.throughput)
			assert.Equal(t, tt.pairEvery, c.pairInterval)
			assert.Equal(t, tt.pairBurst, c.pairBurst)
		})
	}
}

func TestLimitersPerNumberAndUser(t *testing.T) {
	done, cancel := context.WithCancel(t.Context())
	cancel()
	c, err := New(StaticToken("t"), &Options{Throughput: 1, PairInterval: time.Hour, PairBurst: 2})
	require.NoError(t, err)

	waited, err := c.limits.tenant("1", c.throughput).wait(t.Context())
	require.NoError(t, err)
	assert.False(t, waited, "the first message of the second")
	waited, err = c.limits.tenant("1", c.throughput).wait(done)
	assert.True(t, waited, "the second message of the second waits for its turn")
	assert.ErrorIs(t, err, context.Canceled)
	waited, err = c.limits.tenant("2", c.throughput).wait(t.Context())
	require.NoError(t, err)
	assert.False(t, waited, "another number has its own bucket")

	u := channel.Address{Channel: channel.WhatsApp, Tenant: "1", User: "16505551234"}
	for range 2 {
		waited, err := c.limits.pair(u, c.pairInterval, c.pairBurst).wait(t.Context())
		require.NoError(t, err)
		assert.False(t, waited, "within the burst")
	}
	waited, _ = c.limits.pair(u, c.pairInterval, c.pairBurst).wait(done)
	assert.True(t, waited, "past the burst, the user's messages wait")
	other := u
	other.User = "5215512345678"
	waited, err = c.limits.pair(other, c.pairInterval, c.pairBurst).wait(t.Context())
	require.NoError(t, err)
	assert.False(t, waited, "another user is paced apart")
	u.Tenant = "2"
	waited, err = c.limits.pair(u, c.pairInterval, c.pairBurst).wait(t.Context())
	require.NoError(t, err)
	assert.False(t, waited, "the same user on another number is paced apart")

	// A pause longer than the deadline fails at once with the time left.
	p := c.limits.pair(other, c.pairInterval, c.pairBurst)
	p.pause(time.Hour)
	dl, dcancel := context.WithTimeout(t.Context(), time.Minute)
	defer dcancel()
	_, err = p.wait(dl)
	require.ErrorIs(t, err, channel.ErrRateLimited)
	var ce *channel.Error
	require.ErrorAs(t, err, &ce)
	assert.Greater(t, ce.RetryAfter, 59*time.Minute)
}

func TestPairStrikeBackoff(t *testing.T) {
	l := &limiter{meta.NewLimiter(rate.Every(time.Second), 1)}
	var got []time.Duration
	for range 4 {
		got = append(got, l.strike(time.Second))
	}
	assert.Equal(t, []time.Duration{time.Second, 4 * time.Second, 16 * time.Second, 64 * time.Second}, got, "4^n")
	for range 10 {
		l.strike(time.Second)
	}
	assert.Equal(t, time.Hour, l.strike(time.Second), "capped at an hour")
	l.ok()
	assert.Equal(t, time.Second, l.strike(time.Second), "a message that went through resets the count")
}
