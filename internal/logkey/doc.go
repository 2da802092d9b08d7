// Package logkey holds the log/slog attribute keys wagent uses, in one place
// so that every package names the same thing the same way and log queries
// keep working.
//
// Values logged under these keys never hold message text or phone numbers:
// ids are opaque or redact themselves (see channel.Text, channel.UserID).
package logkey
