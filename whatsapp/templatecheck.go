package whatsapp

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/wagent/wagent/channel"
)

// DefaultTemplateRefresh is how often, at most, the template check
// (Options.Accounts) fetches an account's template list again because a
// template was missing from it; status webhooks seen by [Client.Observe]
// refresh it at once.
const DefaultTemplateRefresh = 30 * time.Second

// checkFields are the fields the template check lists.
var checkFields = []string{"id", "name", "language", "status", "category", "parameter_format", "components"}

// templateCache holds the template list of each business account, for the
// template check. It is safe for concurrent use.
type templateCache struct {
	mu    sync.Mutex
	sets  map[string]*templateSet
	gen   map[string]uint64 // bumped by stale, to drop loads begun before
	group singleflight.Group
}

type templateSet struct {
	byKey  map[string]TemplateInfo // name + "\x00" + language
	loaded time.Time
	stale  bool
}

func templateKey(name, language string) string { return name + "\x00" + language }

// stale marks the account's list out of date: the next check fetches it.
func (tc *templateCache) stale(account string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.gen == nil {
		tc.gen = make(map[string]uint64)
	}
	tc.gen[account]++
	if s := tc.sets[account]; s != nil {
		s.stale = true
	}
}

func (tc *templateCache) get(account string) *templateSet {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.sets[account]
}

// load fetches the account's templates, one load per account at a time.
func (c *Client) loadTemplates(ctx context.Context, acct Account) (*templateSet, error) {
	v, err, _ := c.templates.group.Do(acct.ID, func() (any, error) {
		c.templates.mu.Lock()
		gen := c.templates.gen[acct.ID]
		c.templates.mu.Unlock()
		set := &templateSet{byKey: make(map[string]TemplateInfo), loaded: time.Now()}
		for t, err := range c.Templates(ctx, acct, &TemplateQuery{Page: Page{Limit: 100}, Fields: checkFields}) {
			if err != nil {
				return nil, err
			}
			set.byKey[templateKey(t.Name, t.Language)] = t
		}
		c.templates.mu.Lock()
		defer c.templates.mu.Unlock()
		if c.templates.sets == nil {
			c.templates.sets = make(map[string]*templateSet)
		}
		set.stale = c.templates.gen[acct.ID] != gen
		c.templates.sets[acct.ID] = set
		return set, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*templateSet), nil
}

// lookupTemplate finds the account's template name in language, fetching
// the list when it is not cached, stale, or (at most every
// DefaultTemplateRefresh) misses the template.
func (c *Client) lookupTemplate(ctx context.Context, acct Account, name, language string) (TemplateInfo, *templateSet, error) {
	set := c.templates.get(acct.ID)
	fetched := false
	if set == nil || set.isStale(&c.templates) {
		var err error
		if set, err = c.loadTemplates(ctx, acct); err != nil {
			return TemplateInfo{}, nil, err
		}
		fetched = true
	}
	if t, ok := set.byKey[templateKey(name, language)]; ok {
		return t, set, nil
	}
	if !fetched && time.Since(set.loaded) >= DefaultTemplateRefresh {
		var err error
		if set, err = c.loadTemplates(ctx, acct); err != nil {
			return TemplateInfo{}, nil, err
		}
		if t, ok := set.byKey[templateKey(name, language)]; ok {
			return t, set, nil
		}
	}
	return TemplateInfo{}, set, nil
}

func (s *templateSet) isStale(tc *templateCache) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return s.stale
}

// checkTemplate is the template check of Options.Accounts.
func (c *Client) checkTemplate(ctx context.Context, tenant channel.TenantID, t *channel.Template) error {
	acct, err := c.accounts.Account(ctx, tenant)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return invalidf("template check: finding the business account: %w", err)
	}
	info, set, err := c.lookupTemplate(ctx, acct, t.Name, t.Language)
	if err != nil {
		return err
	}
	if info.Name == "" {
		for _, other := range set.byKey {
			if other.Name == t.Name {
				return templateErr(ErrTemplateNotFound, "template %q has no %q translation", t.Name, t.Language)
			}
		}
		return templateErr(ErrTemplateNotFound, "template %q does not exist in the business account", t.Name)
	}
	if info.Status != TemplateApproved {
		return templateErr(ErrTemplateNotApproved, "template %q (%s) is %s", t.Name, t.Language, info.Status)
	}
	return matchParams(info, t)
}

// matchParams checks that t fills info's header, body and buttons.
func matchParams(info TemplateInfo, t *channel.Template) error {
	bad := func(format string, args ...any) error {
		return templateErr(ErrTemplateParams, "template %q: "+format, append([]any{info.Name}, args...)...)
	}
	var header, body *TemplateComponent
	var buttons []TemplateButton
	for i := range info.Components {
		switch c := &info.Components[i]; c.Type {
		case ComponentHeader:
			header = c
		case ComponentBody:
			body = c
		case ComponentButtons:
			buttons = c.Buttons
		}
	}
	// Header.
	switch {
	case header == nil && t.Header != nil:
		return bad("it has no header, the message fills one")
	case header != nil && header.Format == HeaderText:
		vars := varsOf(header.Text).count()
		if vars == 0 && t.Header != nil {
			return bad("its text header has no variable, the message fills one")
		}
		if vars > 0 && (t.Header == nil || t.Header.Text == "") {
			return bad("its text header has a variable, the message gives no header text")
		}
	case header != nil && header.Format == HeaderLocation:
		return bad("its LOCATION header needs a location, which a channel.Template cannot carry")
	case header != nil && (header.Format == HeaderImage || header.Format == HeaderVideo || header.Format == HeaderDocument):
		want := map[HeaderFormat]channel.MediaKind{HeaderImage: channel.Image, HeaderVideo: channel.Video, HeaderDocument: channel.Document}[header.Format]
		if t.Header == nil || t.Header.Media == nil {
			return bad("its %s header needs media, the message gives none", header.Format)
		}
		if t.Header.Media.Kind != want {
			return bad("its header is %s, the message gives %s", header.Format, t.Header.Media.Kind)
		}
	}
	// Body.
	var vars templateVars
	if body != nil {
		vars = varsOf(body.Text)
	}
	named := len(vars.names) > 0
	switch {
	case vars.count() == 0 && len(t.Params) > 0:
		return bad("its body has no variables, the message gives %d parameters", len(t.Params))
	case named:
		if len(t.Params) != len(vars.names) {
			return bad("its body has %d named variables, the message gives %d parameters", len(vars.names), len(t.Params))
		}
		for i, p := range t.Params {
			if p.Name == "" {
				return bad("its body has named variables, parameter %d is positional", i)
			}
			if !slices.Contains(vars.names, p.Name) {
				return bad("its body has no variable {{%s}}", p.Name)
			}
		}
	default:
		if len(t.Params) != len(vars.numbers) {
			return bad("its body has %d variables, the message gives %d parameters", len(vars.numbers), len(t.Params))
		}
		for i, p := range t.Params {
			if p.Name != "" {
				return bad("its body has positional variables, parameter %d is named", i)
			}
		}
	}
	// Buttons.
	filled := map[int]channel.TemplateButton{}
	for _, b := range t.Buttons {
		if b.Index >= len(buttons) {
			return bad("it has %d buttons, the message fills button %d", len(buttons), b.Index)
		}
		filled[b.Index] = b
	}
	for i, tb := range buttons {
		b, ok := filled[i]
		dynamic := tb.Type == ButtonURL && varsOf(tb.URL).count() > 0
		switch {
		case tb.Type == ButtonCopyCode:
			return bad("its copy-code button %d needs a coupon code, which a channel.Template cannot carry", i)
		case tb.Type == ButtonOTP && (!ok || b.URLSuffix == ""):
			return bad("its OTP button %d needs the code as the button's URL suffix", i)
		case tb.Type == ButtonOTP && b.Payload != "":
			return bad("its OTP button %d takes the code as URL suffix, not a payload", i)
		case tb.Type == ButtonOTP:
		case dynamic && (!ok || b.URLSuffix == ""):
			return bad("its URL button %d ends with a variable, the message gives no URL suffix", i)
		case !ok:
		case tb.Type == ButtonQuickReply && b.Payload == "":
			return bad("button %d is a quick reply, the message gives no payload", i)
		case tb.Type == ButtonURL && !dynamic:
			return bad("its URL button %d has a fixed URL, the message gives a suffix", i)
		case tb.Type != ButtonQuickReply && tb.Type != ButtonURL:
			return bad("its button %d is %s, which takes no parameter here", i, tb.Type)
		}
	}
	return nil
}
