// Package webwidget will connect wagent to a business's website: an
// embeddable chat widget served by an [net/http.Handler] the host mounts
// (widget script, message endpoint, server-sent events, history), and the
// [github.com/wagent/wagent/channel.Channel] behind it, so that the same
// agent answers on WhatsApp and on the website.
//
// The contract it implements is in package channel; the adapter itself is
// being built.
package webwidget
