package whatsapp

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"sync"

	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
)

// ThroughputLevel is a business phone number's throughput level, as the
// Graph API reports it in the throughput field of a phone number.
type ThroughputLevel string

// Throughput levels. The Cloud API sends up to 80 messages per second
// from a number by default and up to 1,000 after an automatic upgrade
// (developers.facebook.com/documentation/business-messaging/whatsapp/throughput).
const (
	ThroughputStandard      ThroughputLevel = "STANDARD" // 80 mps
	ThroughputHigh          ThroughputLevel = "HIGH"     // 1,000 mps
	ThroughputNotApplicable ThroughputLevel = "NOT_APPLICABLE"
)

// PhoneNumber is a business phone number of a WhatsApp Business Account.
type PhoneNumber struct {
	// ID is the phone_number_id: the tenant of the number's messages.
	ID channel.TenantID `json:"id"`
	// DisplayPhoneNumber is the business's number as shown to users,
	// such as "+1 555-078-3881".
	DisplayPhoneNumber string `json:"display_phone_number"`
	VerifiedName       string `json:"verified_name"`
	// QualityRating is GREEN, YELLOW, RED or UNKNOWN.
	QualityRating string `json:"quality_rating"`
	// MessagingLimitTier is the number's messaging limit, such as TIER_1K.
	MessagingLimitTier string     `json:"messaging_limit_tier"`
	Throughput         Throughput `json:"throughput"`
}

// Throughput is a phone number's throughput.
type Throughput struct {
	Level ThroughputLevel `json:"level"`
}

// PhoneNumberPage is one page of phone numbers.
type PhoneNumberPage struct {
	Numbers []PhoneNumber
	// After is the cursor of the next page, "" on the last page.
	After string
}

// phoneFields are the fields a phone number listing asks for.
const phoneFields = "id,display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput{level}"

// ListPhoneNumbers returns one page (nil: the first) of the account's
// business phone numbers (GET /{waba-id}/phone_numbers). The client's
// per-number throughput follows the level each listed number reports:
// [DefaultThroughput] (or Options.Throughput) for STANDARD, [MaxThroughput]
// for HIGH.
func (c *Client) ListPhoneNumbers(ctx context.Context, acct Account, p *Page) (PhoneNumberPage, error) {
	var page Page
	if p != nil {
		page = *p
	}
	v := url.Values{"fields": {phoneFields}}
	if err := page.query(v); err != nil {
		return PhoneNumberPage{}, err
	}
	var out graphPage[PhoneNumber]
	if err := c.manage(ctx, acct, manageCall{op: "phone_numbers", method: http.MethodGet, path: "/" + acct.ID + "/phone_numbers", query: v, out: &out}); err != nil {
		return PhoneNumberPage{}, err
	}
	for _, n := range out.Data {
		c.rates.learn(n)
		c.applyLevel(n.ID, n.Throughput.Level)
	}
	return PhoneNumberPage{Numbers: out.Data, After: out.next()}, nil
}

// PhoneNumbers ranges over all of the account's business phone numbers,
// page by page, as [Client.ListPhoneNumbers] lists them. It stops at the
// first error, which it yields.
func (c *Client) PhoneNumbers(ctx context.Context, acct Account, p *Page) iter.Seq2[PhoneNumber, error] {
	var first Page
	if p != nil {
		first = *p
	}
	return pages(ctx, first, func(ctx context.Context, p Page) ([]PhoneNumber, string, error) {
		page, err := c.ListPhoneNumbers(ctx, acct, &p)
		return page.Numbers, page.After, err
	})
}

// Throughput returns the messages per second the client currently allows
// the business number tenant: Options.Throughput (default
// [DefaultThroughput]) until a listing or a webhook reported its level.
func (c *Client) Throughput(tenant channel.TenantID) int { return c.rates.of(tenant, c.throughput) }

// rates holds the throughput the API reported for each number, and the
// phone_number_id of each display number (webhooks about numbers name the
// display number only). It is safe for concurrent use.
type rates struct {
	mu        sync.Mutex
	perSecond map[channel.TenantID]int
	byDisplay map[string]channel.TenantID
}

func (r *rates) of(t channel.TenantID, def int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.perSecond[t]; ok {
		return n
	}
	return def
}

func (r *rates) set(t channel.TenantID, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perSecond == nil {
		r.perSecond = make(map[channel.TenantID]int)
	}
	r.perSecond[t] = n
}

func (r *rates) learn(n PhoneNumber) {
	d := digits(n.DisplayPhoneNumber)
	if d == "" || !validTenant(n.ID) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byDisplay == nil {
		r.byDisplay = make(map[string]channel.TenantID)
	}
	r.byDisplay[d] = n.ID
}

func (r *rates) idOf(display string) (channel.TenantID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.byDisplay[digits(display)]
	return t, ok && t != ""
}

// tenantLimiter returns the throughput limiter of a business number, at
// its current rate.
func (c *Client) tenantLimiter(t channel.TenantID) *limiter {
	return c.limits.tenant(t, c.Throughput(t))
}

// applyLevel makes the number's limiter follow its throughput level;
// unknown levels change nothing.
func (c *Client) applyLevel(t channel.TenantID, level ThroughputLevel) {
	var n int
	switch level {
	case ThroughputStandard:
		n = c.throughput
	case ThroughputHigh:
		n = MaxThroughput
	default:
		return
	}
	if !validTenant(t) {
		return
	}
	c.rates.set(t, n)
	c.limits.tenant(t, n).SetRate(rate.Limit(n), n)
}
