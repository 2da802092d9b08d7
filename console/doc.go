// Package console is the operator console of wagent: an [http.Handler]
// with a JSON API and a small embedded web page, with which a business's
// people take over conversations from the AI. They see the queue of
// conversations waiting for a person (unclaimed first), open one with its
// history, claim it, reply (through the conversation's channel, WhatsApp
// or the widget, within the channel's customer-service window), write
// internal notes, hand it back to the AI, or close it, with live updates
// over server-sent events.
//
// The host mounts the console behind its own authentication and tells it
// who the operator is:
//
//	c, err := console.New(a, st, &console.Options{
//		Operator: func(r *http.Request) (string, error) { return staffSession(r) },
//		Tenants:  []channel.TenantID{"tienda-sol"},
//		Audit:    audit,
//	})
//	mux.Handle("/console/", requireStaff(http.StripPrefix("/console", c)))
//
// The store must implement [store.ConversationLister] (store/memory,
// store/sqlite and store/postgres do). Replies, claims, releases and
// closes go through the [agent.Agent], so that the AI stays silent while a
// human owns a conversation and every message is recorded and tracked
// like the AI's. The console follows the agent's handoff events
// ([agent.Agent.Subscribe]); with several instances behind a load
// balancer, each console streams the events of its own agent, and the
// page refetches when it reconnects.
//
// # Concurrency
//
// A Console is safe for concurrent use. It starts no goroutines; each
// event stream runs on its request's goroutine. [Console.Close] ends the
// streams and waits for them; call it before the HTTP server's Shutdown.
//
// # Errors
//
// [New] reports every problem with its arguments at once. Errors become
// HTTP statuses in one table: 401 without an operator, 403 for a tenant
// the operator may not see or a cross-site POST, 404 for a conversation
// that is not the tenant's (never another tenant's data), 409 when the
// operator does not hold the conversation ([agent.ErrNotOwner]) or the
// customer-service window has closed ([channel.ErrWindowClosed]: only a
// template reaches the customer), 400/413/415 for bad input, 503 after
// Close. The body is {"error": code, "message": words for the operator};
// the detail goes to the logs.
//
// # Privacy
//
// Every view of a conversation is recorded in the privacy audit log
// ([privacy.AuditOperatorView], actor "operator:<identity>", the subject's
// id, no message text) before it is shown; if it cannot be recorded,
// nothing is shown. The queue shows the customer's id masked. Events on
// the stream carry ids, never what was said. Logs carry ids and codes.
// The page is served with a strict Content-Security-Policy, no framing,
// no referrer, and no caching of API answers.
package console
