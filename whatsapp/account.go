package whatsapp

import (
	"context"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// Account is a WhatsApp Business Account (WABA) and the credentials to
// manage it with: the management calls of [Client] (templates, business
// profile, phone numbers) take one, so that one process manages many
// merchants, each with the token of its own business account.
//
// Printed or logged, an Account shows its id only.
type Account struct {
	// ID is the WhatsApp Business Account id.
	ID string
	// Credentials give the account's access token, asked for with the
	// account id as the tenant. Nil: the Client's own Credentials, asked
	// the same way.
	Credentials Credentials
}

// String returns the account's id, never its credentials.
func (a Account) String() string { return "whatsapp.Account(" + a.ID + ")" }

// GoString is String, for %#v.
func (a Account) GoString() string { return a.String() }

// LogValue implements [slog.LogValuer]: the id, never the credentials.
func (a Account) LogValue() slog.Value { return slog.StringValue(a.ID) }

// Accounts tells which business account a business phone number
// (phone_number_id) belongs to, for the template check of
// Options.Accounts. It is called from many goroutines at once; ctx bounds
// the call. An error fails the send with [channel.ErrInvalidMessage].
type Accounts interface {
	Account(ctx context.Context, tenant channel.TenantID) (Account, error)
}

// AccountMap is a fixed [Accounts]: the account of each phone_number_id.
type AccountMap map[channel.TenantID]Account

// Account implements [Accounts]. A number not in the map is an error.
func (m AccountMap) Account(_ context.Context, tenant channel.TenantID) (Account, error) {
	a, ok := m[tenant]
	if !ok {
		return Account{}, errNoAccount
	}
	return a, nil
}

// Page asks for one page of a listing. The zero value asks for the first
// page of the API's default size.
type Page struct {
	// Limit is the number of items per page (0: the API's default, 25).
	Limit int
	// After is the cursor of the page to fetch, from a previous page's
	// After; empty for the first page.
	After string
}

// graphPage is the envelope of a Graph API listing.
type graphPage[T any] struct {
	Data   []T `json:"data"`
	Paging struct {
		Cursors struct {
			Before string `json:"before"`
			After  string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// next returns the cursor of the next page, "" when this one is the last:
// the Graph API omits paging.next on the last page.
func (p *graphPage[T]) next() string {
	if p.Paging.Next == "" {
		return ""
	}
	return p.Paging.Cursors.After
}

func (p Page) query(q url.Values) error {
	if p.Limit < 0 {
		return invalidf("Page.Limit must not be negative")
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.After != "" {
		q.Set("after", p.After)
	}
	return nil
}

// manageCall is one management request.
type manageCall struct {
	op     string
	method string
	path   string     // under the version, starting with '/'
	query  url.Values // may be nil
	body   any        // JSON-encoded when not nil
	out    any
}

// manage makes a management call with acct's credentials: retried by
// error class like sends (GET and DELETE also when their outcome is
// unknown), with errors classified by [Kind].
func (c *Client) manage(ctx context.Context, acct Account, m manageCall) error {
	if !validTenant(channel.TenantID(acct.ID)) {
		return invalidf("the account id must be a WhatsApp Business Account id")
	}
	u := m.path
	if len(m.query) > 0 {
		u += "?" + m.query.Encode()
	}
	cl := call{
		op: m.op, tenant: channel.TenantID(acct.ID), method: m.method, path: u,
		attempts: c.maxAttempts, idempotent: m.method == http.MethodGet || m.method == http.MethodDelete,
		creds: acct.Credentials,
	}
	if m.body != nil {
		b, err := meta.Marshal(m.body)
		if err != nil {
			return err
		}
		cl.body, cl.contentType = b, "application/json"
	}
	_, err := c.call(ctx, cl, m.out)
	return err
}

// successAnswer is the answer of calls that change something.
type successAnswer struct {
	Success bool `json:"success"`
}

// pages walks a listing page by page, fetching the next while the caller
// ranges, and stops at the first error, which it yields.
func pages[T any](ctx context.Context, first Page, fetch func(ctx context.Context, p Page) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		p := first
		for {
			items, after, err := fetch(ctx, p)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if after == "" || after == p.After {
				return
			}
			p.After = after
		}
	}
}

// validID reports whether s can be a Graph API node id in a path.
func validID(s string) bool { return validTenant(channel.TenantID(s)) }
