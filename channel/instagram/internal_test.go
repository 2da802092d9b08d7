package instagram

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
)

func TestProfileCacheBounded(t *testing.T) {
	pc := profileCache{ttl: time.Minute, size: 3}
	now := time.Now()
	addr := func(i int) channel.Address {
		return channel.Address{Channel: channel.Instagram, Tenant: "1", User: channel.UserID(strconv.Itoa(i))}
	}
	for i := range 10 {
		pc.put(addr(i), channel.Profile{Name: "n"}, now)
		assert.LessOrEqual(t, pc.len(), 3)
	}
	_, ok := pc.get(addr(9), now)
	assert.True(t, ok, "the newest is kept")
	_, ok = pc.get(addr(9), now.Add(time.Minute))
	assert.False(t, ok, "expired")
}

func TestWindowsObserve(t *testing.T) {
	var w windows
	a := channel.Address{Tenant: "1", User: "2"}
	_, known := w.since(a)
	assert.False(t, known)
	w.observe(a, time.Now().Add(time.Hour)) // a clock ahead counts as now
	d, known := w.since(channel.Address{Channel: channel.Instagram, Tenant: "1", User: "2"})
	require.True(t, known)
	assert.Less(t, d, time.Minute)
}

func TestEventTime(t *testing.T) {
	assert.Equal(t, time.UnixMilli(1739321023500).UTC(), eventTime(1739321023500), "milliseconds")
	assert.Equal(t, time.Unix(1739321023, 0).UTC(), eventTime(1739321023), "seconds")
	assert.True(t, eventTime(0).IsZero())
	assert.True(t, eventTime(-5).IsZero())
}
