// Command commerce runs one agent for a small shop on WhatsApp, Instagram
// Direct and the website widget together, with a catalog, orders, support
// tickets and handoff to people. It is configured only by environment
// variables:
//
//	WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_PHONE_NUMBER_ID
//	                          all four turn WhatsApp on (webhook /webhooks/whatsapp)
//	WHATSAPP_API_URL          default https://graph.facebook.com
//	INSTAGRAM_ACCESS_TOKEN, INSTAGRAM_APP_SECRET, INSTAGRAM_VERIFY_TOKEN, INSTAGRAM_ACCOUNT_ID
//	                          all four turn Instagram Direct on (webhook /webhooks/instagram)
//	INSTAGRAM_API_URL         default https://graph.instagram.com
//	ADDR                      default :8080
//	PUBLIC_URL                the URL people open when it is not this address (a proxy, a
//	                          tunnel): its origin may embed the widget
//	WIDGET_SECRET             signs visitor tokens (at least 32 characters; the same on every
//	                          instance); default: made once and kept in DATA_DIR/widget-secret
//	DATA_DIR                  default the working directory
//	ADMIN_TOKEN               console and privacy admin token (default: generated and printed)
//	STORE                     sqlite:PATH (default sqlite:commerce.db), postgres:DSN or memory
//	LLM, OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, GEMINI_API_KEY, GEMINI_MODEL, GEMINI_BASE_URL
//	                          the model (see examples/internal/setup; none set: echo)
//
// A partly configured channel or a wrong setting is reported on one line
// naming the variable, and the command exits with status 2.
//
// The widget is always on, on a small product page at /; the chat API is
// at /chat/, the operator console at /console/ (sign in with the admin
// token), the privacy admin API at /admin/privacy/ and a health check at
// /healthz. SIGINT or SIGTERM stops it gracefully.
package main
