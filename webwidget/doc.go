// Package webwidget connects wagent to a business's website: an embeddable
// chat widget, served by the [net/http.Handler] of [Widget.Handler], and the
// [github.com/wagent/wagent/channel.Channel] behind it, so that the agent
// that answers on WhatsApp answers on the website too.
//
// The host creates a Widget with the store the agent records into, gives
// it to the agent as a channel, and mounts its handler with the agent as
// the receiver:
//
//	w, err := webwidget.New(st, &webwidget.Options{
//		Secret: secret, // 32 random bytes or more, from the host's secret store
//		Sites: []webwidget.Site{{
//			Key:              "tienda-sol",
//			Name:             "Tienda Sol",
//			Greeting:         "¡Hola! ¿En qué te ayudo?",
//			PrivacyPolicyURL: "https://tiendasol.example/privacidad",
//			AllowedOrigins:   []string{"https://tiendasol.example"},
//			Labels:           webwidget.SpanishLabels(),
//		}},
//	})
//	a, err := agent.New(agent.Config{Store: st, Model: model, Channels: []channel.Channel{w}})
//	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(a)))
//
// Pages embed it with one tag, and need nothing else:
//
//	<script src="https://tiendasol.example/chat/widget.js" data-site="tienda-sol" async></script>
//
// # Mounting
//
// The handler serves paths relative to its root (/widget.js, /config,
// /events...; see [Widget.Handler]). Mount it under any prefix with
// [net/http.StripPrefix]; the script finds the other endpoints next to its
// own URL. The script and stylesheet are plain files embedded in the
// package (vanilla JavaScript, no build step, no framework, under 30 KB
// together); pages with a Content-Security-Policy need the widget's origin
// in script-src, style-src and connect-src, and in img-src when replies
// carry images. The widget adds no inline script or style to the page.
//
// # Protocol
//
// A visitor is anonymous: POST /session issues a token signed with
// HMAC-SHA256 that holds the site key, a random visitor id and the issue
// time, which the script keeps in localStorage and sends as a bearer
// token. The visitor id is the user of the visitor's [channel.Address];
// the site key is its tenant. A token is valid for [Options.TokenTTL] and
// refreshed each time the widget starts; an altered, forged, expired or
// other site's token is refused with 401, so one visitor can never read
// another's history.
//
// A message is POSTed with an id the script generates; the id is the
// message's [channel.MessageID], so a retried POST is recorded and
// answered once. Replies, operator messages and typing indicators arrive
// on a server-sent event stream, read with fetch so that the token travels
// in a header rather than the URL. Message events carry ids that increase
// per visitor; the last few ([Options.ResumeBuffer]) are kept for
// [Options.ResumeWindow], and a reconnecting client (Last-Event-ID)
// receives exactly the events it missed, or a reload event when they are no
// longer all kept, after which it reloads the history. GET /history
// returns the conversation as the store keeps it, with the cursor to
// resume from; the script shows each record once however it arrives.
//
// Event streams live in the process that serves them: Send reaches the
// visitors connected to the same Widget. Several instances behind a load
// balancer need sticky sessions (by the Authorization header's token, or
// by client address), or a pub/sub between instances, which this package
// does not provide.
//
// # Concurrency
//
// A Widget and its handlers are safe for concurrent use: the agent sends
// from many goroutines while requests are served. New starts no goroutine;
// each event stream runs in its request's goroutine, and [Widget.Close]
// ends them all and waits for them. Sending never blocks on a slow
// browser: a stream that falls behind is closed and its client resumes.
//
// # Errors
//
// [New] reports every configuration problem at once. [Widget.Send] returns
// the sentinels of package channel: [channel.ErrInvalidMessage] for what
// the widget cannot show, [channel.ErrUnsupported] for templates,
// reactions and media without a URL, [channel.ErrUndeliverable] for an
// unknown site, [channel.ErrClosed] after Close; a visitor being offline
// is not an error. The handler turns errors into statuses in one table:
// 400 malformed request, 401 token, 403 origin, 404 unknown site key, 413
// message too large, 429 rate limited (with Retry-After), 501 no erasure
// configured, 503 closed or receiver refusing (with Retry-After), 500
// anything else. Bodies are {"error": code} and never hold details;
// operators find those in the logs.
//
// # Privacy
//
// The widget sets no cookie and tracks nothing. Until the visitor writes,
// it asks the server for the site's configuration only and keeps nothing
// in the browser; then it keeps the visitor token in localStorage (and
// whether the panel is open in sessionStorage). Tokens hold no personal
// data; they are not revoked by an erasure, the script forgets them. A short notice with a link to the
// business's privacy policy is shown before the first message. "Delete my
// data" calls [Options.Erase] (the privacy engine) or erases the
// visitor's subject from the store, forgets the events kept for them, and
// clears the browser's localStorage. Logs hold site keys, record ids and
// the visitor's address, masked by [channel.Address]'s LogValue; never
// message text, visitor ids in clear, IP addresses or tokens.
package webwidget
