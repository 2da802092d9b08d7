// Package agent is the core of wagent: [Agent] takes what channels receive,
// records it, and answers each customer with a language model and tools.
//
// An Agent is built from interfaces: a [store.ConversationStore] that makes
// every inbound message durable and idempotent, an [llm.Provider], the
// [channel.Channel]s that send replies, and optionally a
// [privacy.ConsentLedger]. The host mounts its channels' HTTP handlers on
// its own server, passing the agent as their [channel.Receiver]:
//
//	a, err := agent.New(agent.Config{
//		Store:        memory.New(nil),
//		Model:        model,
//		Channels:     []channel.Channel{wa},
//		Instructions: "You are the assistant of Tienda Sol.",
//		Tools:        []agent.Tool{agent.NewTool("order_status", "Status of an order", orderStatus)},
//	})
//	go a.Run(ctx)
//	defer a.Shutdown(shutdownCtx)
//
// For each inbound message: the channel calls [Agent.Receive], which records
// the message (a redelivered one is recognized and not processed again) and
// returns once it is durable, so the channel can acknowledge at once. A
// worker then processes the conversation's messages one at a time in the
// order they were recorded, many conversations in parallel through a
// bounded queue. A turn checks the gates (a human owns the conversation; the
// subject objected), shows a typing indicator, loads the last
// [Config.HistoryLimit] records, runs the model with the tools until it
// answers (at most [Config.MaxSteps] calls; tool errors and invalid
// arguments go back to the model), records the reply, sends it, and records
// the delivery and the outcome. Messages recorded but not processed, after a
// crash or when the queue was full, are found again by a recovery scan.
//
// Beyond the host's tools, the agent offers the model built-in ones: it
// hands a conversation to a person (handoff_to_human); it opens and
// follows support tickets for the customer of the turn (create_ticket,
// ticket_status, add_ticket_note) in [Config.Tickets], by default the Store;
// with [Config.Catalog] and [Config.Orders] it searches products and places,
// follows and cancels the customer's orders, and a WhatsApp cart becomes an
// order once however often it is delivered. A customer never reaches
// another customer's tickets or orders. [Config.Business] adds a tenant's
// products, policies and tone to the instructions. With
// [IntentConfig.Enabled], each turn is tagged with an intent and the values
// it mentions (one structured call to the model, skipped when a rule
// decides), stored with the message ([store.Tagger]) and reported in
// [TurnInfo]; [RoutingConfig] hands a conversation to a person on an
// intent, negative sentiment or repeated failures.
//
// # Concurrency
//
// An Agent is safe for concurrent use. It starts goroutines only in
// [Agent.Run], and [Agent.Shutdown] waits for all of them, as
// [net/http.Server.Shutdown] does. Tools and hooks are called from many
// goroutines at once.
//
// # Errors
//
// [New] reports every configuration problem at once. [Agent.Receive] fails
// only when a message cannot be recorded, or with [ErrClosed] after
// Shutdown; failures while processing are logged, counted in
// [Agent.Stats], reported to [Hooks.TurnDone] and recorded on the message
// (store.Processing), never returned to the channel and never a crash.
//
// # Privacy
//
// Logs and hooks carry ids, never message text or phone numbers: the
// channel types redact themselves in log/slog. The agent answers nobody
// whose conversation a human owns, or who objected to AI processing.
package agent
