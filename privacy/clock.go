package privacy

import "time"

// Period is a legal or promised time limit: months (calendar months, as
// GDPR's "one month") then days, calendar days or business days (Monday
// to Friday; public holidays are not known and count as business days).
type Period struct {
	Months int `json:"months,omitempty"`
	Days   int `json:"days,omitempty"`
	// BusinessDays counts Days as Monday to Friday only.
	BusinessDays bool `json:"business_days,omitempty"`
}

// IsZero reports whether p is no time at all.
func (p Period) IsZero() bool { return p.Months == 0 && p.Days == 0 }

// After returns the end of p started at t.
func (p Period) After(t time.Time) time.Time {
	t = t.AddDate(0, p.Months, 0)
	if !p.BusinessDays {
		return t.AddDate(0, 0, p.Days)
	}
	for n := p.Days; n > 0; {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// Clock is a set of deadlines for answering data-subject requests: a law's
// or the business's own promise. A request is due at the earliest deadline
// of the clocks that apply to it, and an extension moves it to the
// earliest extended deadline, so that the strictest rule always wins.
type Clock struct {
	// Name identifies the clock in requests: "gdpr", "ccpa", "peru_arco",
	// "promise".
	Name string `json:"name"`
	// Deadline is the time to answer a request of a type not in Deadlines.
	Deadline  Period                 `json:"deadline"`
	Deadlines map[RequestType]Period `json:"deadlines,omitempty"`
	// Extension is how much longer an extended request may take, once; zero
	// means this clock allows none. Extensions overrides it per type.
	Extension  Period                 `json:"extension,omitzero"`
	Extensions map[RequestType]Period `json:"extensions,omitempty"`
}

func (c Clock) deadline(t RequestType) Period {
	if p, ok := c.Deadlines[t]; ok {
		return p
	}
	return c.Deadline
}

func (c Clock) extension(t RequestType) Period {
	if p, ok := c.Extensions[t]; ok {
		return p
	}
	return c.Extension
}

// GDPR returns the clock of GDPR Art. 12(3): one month, extendable by two
// further months.
func GDPR() Clock {
	return Clock{Name: "gdpr", Deadline: Period{Months: 1}, Extension: Period{Months: 2}}
}

// CCPA returns the clock of the California Consumer Privacy Act: 45
// calendar days, extendable once by 45 more.
func CCPA() Clock {
	return Clock{Name: "ccpa", Deadline: Period{Days: 45}, Extension: Period{Days: 45}}
}

// PeruARCO returns the clock of Peru's Law 29733 regulation (D.S.
// 003-2013-JUS) for ARCO rights: 20 days to answer access (and export),
// 10 days for rectification, cancellation (erasure), objection and the
// others, each extendable once by an equal period. The days are counted
// as calendar days, the stricter reading; set BusinessDays if your counsel
// reads them as working days.
func PeruARCO() Clock {
	twenty, ten := Period{Days: 20}, Period{Days: 10}
	return Clock{
		Name: "peru_arco", Deadline: ten, Extension: ten,
		Deadlines:  map[RequestType]Period{RequestAccess: twenty, RequestExport: twenty},
		Extensions: map[RequestType]Period{RequestAccess: twenty, RequestExport: twenty},
	}
}

// Promise returns a clock for the business's own published promise, such
// as "we respond to all privacy requests within 30 days", without
// extension.
func Promise(days int) Clock {
	return Clock{Name: "promise", Deadline: Period{Days: days}}
}

// DefaultClocks returns the clocks of a [RequestsConfig] that sets none: the
// promise of 30 days, the shortest the seed policies publish.
func DefaultClocks() []Clock { return []Clock{Promise(30)} }

// dueDate returns when a request of type t received at from is due under
// clocks, and the clock that decides.
func dueDate(clocks []Clock, t RequestType, from time.Time) (time.Time, string) {
	var due time.Time
	var name string
	for _, c := range clocks {
		if d := c.deadline(t).After(from); due.IsZero() || d.Before(due) {
			due, name = d, c.Name
		}
	}
	return due, name
}

// extendedDate returns the due date of a request received at from once
// extended: the earliest over clocks of each clock's deadline plus its
// extension (a clock without extension keeps its deadline), and the clock
// that decides.
func extendedDate(clocks []Clock, t RequestType, from time.Time) (time.Time, string) {
	var due time.Time
	var name string
	for _, c := range clocks {
		d := c.deadline(t).After(from)
		if ext := c.extension(t); !ext.IsZero() {
			d = ext.After(d)
		}
		if due.IsZero() || d.Before(due) {
			due, name = d, c.Name
		}
	}
	return due, name
}
