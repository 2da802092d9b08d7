package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

var _ privacy.SubjectExporter = SupportData{}

// SupportData exports what the agent's support features keep about a data
// subject beyond the store's records: their tickets, and the tags (intent,
// extracted values) of their messages. Register it among the exporters of
// a privacy request handler (privacy.RequestsConfig.Exporters, under a
// name such as "support") so that an access or portability request
// includes them. Erasure needs nothing more with the built-in stores,
// which erase tickets and tags with the subject. SupportData is safe for
// concurrent use when its stores are.
type SupportData struct {
	// Tickets is the ticket system; nil leaves tickets out.
	Tickets store.TicketSystem
	// Store, when it implements [store.Exporter] and [store.Tagger], gives
	// the tags of the subject's messages; nil leaves tags out.
	Store store.ConversationStore
}

// maxExportedTickets bounds the tickets one export lists.
const maxExportedTickets = 10000

// supportExport is the JSON of SupportData.ExportSubject.
type supportExport struct {
	Tickets []store.Ticket `json:"tickets"`
	Tags    []messageTags  `json:"message_tags"`
}

type messageTags struct {
	Message store.MessageID `json:"message"`
	Tags    store.Tags      `json:"tags"`
}

// ExportSubject implements privacy.SubjectExporter: a JSON object with the
// subject's tickets, latest first, and the tags of their messages, oldest
// first.
func (d SupportData) ExportSubject(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]byte, error) {
	out := supportExport{Tickets: []store.Ticket{}, Tags: []messageTags{}}
	if d.Tickets != nil {
		ts, err := d.Tickets.Tickets(ctx, store.TicketQuery{Tenant: tenant, Subject: subject, Limit: maxExportedTickets})
		if err != nil {
			return nil, fmt.Errorf("agent: export tickets: %w", err)
		}
		out.Tickets = append(out.Tickets, ts...)
	}
	ex, canExport := store.Capability[store.Exporter](d.Store)
	tg, canTag := store.Capability[store.Tagger](d.Store)
	if canExport && canTag {
		data, err := ex.Export(ctx, tenant, subject)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("agent: export tags: %w", err)
		}
		for _, m := range data.Messages {
			if m.Role != store.User {
				continue
			}
			tags, err := tg.Tags(ctx, tenant, m.ID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("agent: export tags: %w", err)
			}
			out.Tags = append(out.Tags, messageTags{Message: m.ID, Tags: tags})
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("agent: export: %w", err)
	}
	return b, nil
}
