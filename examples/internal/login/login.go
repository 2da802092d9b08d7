package login

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// CookieName is the session cookie the form sets.
const CookieName = "wagent_console"

// ErrNotSignedIn is returned by [Gate.Operator] for a request without a
// valid session.
var ErrNotSignedIn = errors.New("login: not signed in")

// Gate checks the admin token and the session cookie derived from it.
// It is safe for concurrent use.
type Gate struct {
	token   string
	session string // HMAC of a fixed label with the token: never the token itself
	// Operator is the identity of whoever signs in.
	operator string
}

// New returns a gate for token, signing people in as operator.
func New(token, operator string) (*Gate, error) {
	if token == "" || operator == "" {
		return nil, errors.New("login: the token and the operator identity are required")
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("wagent console session"))
	return &Gate{token: token, session: hex.EncodeToString(mac.Sum(nil)), operator: operator}, nil
}

// Operator implements console.Options.Operator: the operator identity for
// a request with a valid session cookie or the bearer token, else
// [ErrNotSignedIn].
func (g *Gate) Operator(r *http.Request) (string, error) {
	if c, err := r.Cookie(CookieName); err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(g.session)) == 1 {
		return g.operator, nil
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && subtle.ConstantTimeCompare([]byte(bearer), []byte(g.token)) == 1 {
		return g.operator, nil
	}
	return "", ErrNotSignedIn
}

// Protect serves h to signed-in requests. Others get the login form
// (GET of a page) or 401 (API calls); POST of the form with the right
// token sets the session cookie and goes back to the page.
func (g *Gate) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := g.Operator(r); err == nil {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodPost && r.URL.Query().Has("login") {
			g.signIn(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			g.form(w, http.StatusUnauthorized, "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"unauthorized"}` + "\n"))
	})
}

func (g *Gate) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		g.form(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(g.token)) != 1 {
		g.form(w, http.StatusUnauthorized, "That is not the admin token.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: g.session, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
}

var page = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Operator console: sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0}input,button{padding:.5rem;font:inherit}
p[role=alert]{color:#a00}</style></head>
<body><main><h1>Operator console</h1>
{{if .}}<p role="alert">{{.}}</p>{{end}}
<form method="post" action="?login"><label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form></main></body></html>
`))

func (g *Gate) form(w http.ResponseWriter, status int, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	page.Execute(w, problem)
}
