// Package validtext checks that every string in a value is valid UTF-8,
// for stores that keep records as JSON: encoding/json replaces invalid
// bytes, so a record with them would come back other than it was given
// (and, for the privacy engine's hash chains, no longer match its hash).
package validtext
