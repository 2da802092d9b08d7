// Command whatsapp runs a WhatsApp assistant on the Cloud API, configured
// only by environment variables:
//
//	WHATSAPP_ACCESS_TOKEN     required: a system-user access token
//	WHATSAPP_APP_SECRET       required: the Meta app secret (webhook signatures, appsecret_proof)
//	WHATSAPP_VERIFY_TOKEN     required: the token set with the webhook in the app dashboard
//	WHATSAPP_PHONE_NUMBER_ID  required: the business phone number this bot answers
//	WHATSAPP_API_URL          default https://graph.facebook.com
//	ADDR                      default :8080
//	STORE                     sqlite:PATH (default sqlite:wagent.db), postgres:DSN or memory
//	LLM                       openai, gemini or echo (default: openai when OPENAI_API_KEY or
//	                          OPENAI_BASE_URL is set, else gemini when GEMINI_API_KEY is, else echo)
//	OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, GEMINI_API_KEY, GEMINI_MODEL, GEMINI_BASE_URL
//	                          the model's settings (see examples/internal/setup)
//	WHATSAPP_THROUGHPUT       messages per second the number may send (default 80, at most 1000;
//	                          raised to 1000 by itself when Meta reports a throughput upgrade)
//	CONTACT_LIMIT             messages per minute answered per contact (default 30; off: no limit)
//	INSTANCE                  this instance's name among several on one PostgreSQL store
//	                          (default with STORE=postgres:...: host name and process id); give
//	                          each process a stable name so that, restarted after a crash, it
//	                          takes its conversations back at once rather than when their
//	                          leases expire (TurnTimeout + 1 minute)
//	ADMIN_TOKEN               the staff token (at least 16 characters): mounts the privacy admin
//	                          API at /admin/privacy/ (Authorization: Bearer $ADMIN_TOKEN) and the
//	                          operator console at /console/ (a login form asking for it); unset,
//	                          neither is mounted
//	METADATA_ONLY             on: keep message content and media only for the 24-hour window,
//	                          then strip them (ids, times and delivery states stay); default off
//	LOG_LEVEL                 debug, info (default), warn or error
//
// The privacy engine always runs: STOP, BAJA, CANCELAR or UNSUBSCRIBE in
// chat withdraw marketing consent, "delete my data" or "borrar mis datos"
// opens an erasure request verified by a code sent in the same chat, and
// the retention policy (system logs 90 days, media 30 days) is applied
// every hour. Its records are kept in the store.
//
// A missing or wrong setting is reported on one line naming the variable,
// and the command exits with status 2.
//
// It serves the webhook at /webhooks/whatsapp (point the app's webhook
// there, subscribed to the "messages" field) and a health check at
// /healthz, and stops gracefully on SIGINT or SIGTERM: the server first,
// then the agent, which finishes the replies in progress.
//
//	WHATSAPP_ACCESS_TOKEN=... WHATSAPP_APP_SECRET=... WHATSAPP_VERIFY_TOKEN=... \
//	WHATSAPP_PHONE_NUMBER_ID=... go run ./examples/whatsapp
//
// The templates subcommand manages the message templates of a WhatsApp
// Business Account (WHATSAPP_BUSINESS_ACCOUNT_ID, with
// WHATSAPP_ACCESS_TOKEN) without the Meta UI:
//
//	go run ./examples/whatsapp templates list
//	go run ./examples/whatsapp templates create order_update.json
//	go run ./examples/whatsapp templates delete order_update
package main
