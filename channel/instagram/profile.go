package instagram

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// Profile returns what Instagram tells about the user at to: the name and
// username, through the User Profile API (GET /{igsid}?fields=name,username).
// Answers are cached for Options.ProfileTTL, at most
// Options.ProfileCacheSize of them, so that looking up the sender of every
// message costs one request per user and TTL. Instagram answers only for
// users who wrote to the business (and may refuse others: code 100, or
// 230 without consent); failures are [*channel.Error] values classified as
// for Send, and are not cached. The profile is personal data: it is never
// logged.
func (c *Client) Profile(ctx context.Context, to channel.Address) (channel.Profile, error) {
	if to.Channel != "" && to.Channel != channel.Instagram {
		return channel.Profile{}, invalidf("address of channel %q", to.Channel)
	}
	if !validID(to.Tenant) || !validID(to.User) {
		return channel.Profile{}, invalidf("profile needs a tenant (an Instagram account id) and a user (an IGSID)")
	}
	to.Channel = channel.Instagram
	if p, ok := c.profiles.get(to, time.Now()); ok {
		c.n.profileHits.Add(1)
		return p, nil
	}
	c.n.profileMisses.Add(1)
	var resp struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	}
	_, err := c.call(ctx, to.Tenant, meta.Call{Op: "profile", Method: http.MethodGet, URL: c.base + "/" + string(to.User) + "?fields=name,username",
		Attempts: c.maxAttempts, Idempotent: true, Out: &resp})
	if err != nil {
		return channel.Profile{}, err
	}
	p := channel.Profile{Name: channel.Text(resp.Name), Username: channel.Text(resp.Username)}
	c.profiles.put(to, p, time.Now())
	return p, nil
}

// profileCache is a small TTL cache of profiles, bounded in size.
type profileCache struct {
	ttl  time.Duration
	size int

	mu sync.Mutex
	m  map[channel.Address]cachedProfile
}

type cachedProfile struct {
	p       channel.Profile
	expires time.Time
}

func (pc *profileCache) get(a channel.Address, now time.Time) (channel.Profile, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[a]
	if !ok || !now.Before(e.expires) {
		return channel.Profile{}, false
	}
	return e.p, true
}

func (pc *profileCache) put(a channel.Address, p channel.Profile, now time.Time) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.m == nil {
		pc.m = make(map[channel.Address]cachedProfile)
	}
	if _, ok := pc.m[a]; !ok && len(pc.m) >= pc.size {
		for k, e := range pc.m {
			if !now.Before(e.expires) {
				delete(pc.m, k)
			}
		}
		for k := range pc.m {
			if len(pc.m) < pc.size {
				break
			}
			delete(pc.m, k) // still full: evict any
		}
	}
	pc.m[a] = cachedProfile{p: p, expires: now.Add(pc.ttl)}
}

// len returns the number of cached profiles.
func (pc *profileCache) len() int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.m)
}
