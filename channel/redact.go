package channel

import (
	"log/slog"
	"strconv"
)

// Text is message text or another free-text value written by a user (a
// caption, a profile name). It redacts itself when logged with log/slog, so
// that logs never carry what a customer wrote.
type Text string

// LogValue implements [slog.LogValuer]: it logs the length, not the text.
func (t Text) LogValue() slog.Value {
	return slog.StringValue("[redacted " + strconv.Itoa(len(t)) + "B]")
}

// UserID is a user's id on a channel: a WhatsApp business-scoped user id or
// phone number (wa_id), a widget visitor id, an Instagram-scoped id. It is
// personal data and logs only its last four characters.
type UserID string

// LogValue implements [slog.LogValuer].
func (u UserID) LogValue() slog.Value { return slog.StringValue(mask(string(u))) }

// Phone is a phone number, digits only in E.164 form without the '+'. It logs
// only its last two digits.
type Phone string

// LogValue implements [slog.LogValuer].
func (p Phone) LogValue() slog.Value { return slog.StringValue(mask(string(p))) }

// LogValue implements [slog.LogValuer] for an Address: channel and tenant in
// clear (they identify the business), the user masked.
func (a Address) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("channel", string(a.Channel)),
		slog.String("tenant", string(a.Tenant)),
		slog.String("user", mask(string(a.User))),
	)
}

// LogValue implements [slog.LogValuer] for a Profile: it logs which fields are
// present, never their values.
func (p Profile) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("name", p.Name != ""),
		slog.Bool("phone", p.Phone != ""),
		slog.Bool("username", p.Username != ""),
	)
}

// mask keeps the tail of long identifiers so that operators can tell log
// lines apart without the logs holding the identifier: four characters of
// ids of 12 or more, two of ids of 8 or more, none of shorter ones.
func mask(s string) string {
	keep := 0
	switch {
	case len(s) >= 12:
		keep = 4
	case len(s) >= 8:
		keep = 2
	}
	return "[redacted …" + s[len(s)-keep:] + "]"
}
