// Package login protects the examples' operator console with the admin
// token: a small login form that, given the token, sets a session cookie.
// It stands in for the host's own authentication, which a real deployment
// puts in front of console.Console instead.
package login
