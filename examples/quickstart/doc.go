// Command quickstart is the zero-configuration wagent demo: the website of a
// small shop with the chat widget on every page, answered by a real agent
// (durable idempotent inbox, per-conversation ordering, tool loop, handoff
// to humans, privacy gates) on the embedded SQLite store, with the privacy
// administration API beside it.
//
//	go run ./examples/quickstart
//
// then open http://localhost:8080 and click the chat button. With no API
// key the assistant is an offline demo model that answers from the shop's
// FAQ and catalog in English and Spanish, looks orders up (try A-1001),
// opens a support ticket when the customer reports a problem (the agent's
// built-in create_ticket tool, over the store's tickets), and hands over to
// a person on request; it says plainly that it is the offline demo.
// Handoffs are announced on standard output.
//
// Settings, all optional:
//
//	ADDR            address to listen on (default localhost:8080)
//	PUBLIC_URL      the URL people open, when not http://localhost:PORT
//	                (behind a tunnel or a proxy); its origin may embed the widget
//	ADMIN_TOKEN     bearer token of the privacy admin API (default: a random
//	                one, printed at start)
//	DATA_DIR        where the database and the widget's signing secret live
//	                (default: wagent-quickstart in the user cache directory)
//	STORE           memory, sqlite:PATH or postgres:DSN (default:
//	                sqlite:$DATA_DIR/quickstart.db)
//	LLM, OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, GEMINI_API_KEY,
//	GEMINI_MODEL, GEMINI_BASE_URL
//	                the model, as in every example (see examples/internal/setup);
//	                none set: the offline demo model
//
// Ctrl-C (SIGINT) or SIGTERM stops it gracefully: the event streams end,
// requests in flight finish, turns in progress complete, and the store is
// closed.
package main
