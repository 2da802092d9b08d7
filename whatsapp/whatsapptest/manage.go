package whatsapptest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wagent/wagent/internal/meta"
)

// Account is a WhatsApp Business Account the fake holds, with the token
// that manages it, its phone numbers and its templates.
type Account struct {
	// ID is the WhatsApp Business Account id.
	ID string
	// Token is the access token calls about the account (its templates,
	// numbers and their profiles) must carry. Empty: the server's token.
	Token string
	// Numbers are the account's business phone numbers.
	Numbers []PhoneNumber
}

// PhoneNumber is a business phone number of a fake account.
type PhoneNumber struct {
	ID                 string // phone_number_id
	DisplayPhoneNumber string // such as "+1 555-078-3881"
	VerifiedName       string
	QualityRating      string // GREEN, YELLOW, RED, UNKNOWN
	MessagingLimitTier string // such as TIER_1K
	ThroughputLevel    string // STANDARD or HIGH
	Profile            Profile
}

// Profile is the business profile of a fake phone number.
type Profile struct {
	About             string   `json:"about,omitempty"`
	Address           string   `json:"address,omitempty"`
	Description       string   `json:"description,omitempty"`
	Email             string   `json:"email,omitempty"`
	ProfilePictureURL string   `json:"profile_picture_url,omitempty"`
	Websites          []string `json:"websites,omitempty"`
	Vertical          string   `json:"vertical,omitempty"`
}

// Template is a message template a fake account holds.
type Template struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Status          string          `json:"status"`
	Category        string          `json:"category"`
	ParameterFormat string          `json:"parameter_format,omitempty"`
	Components      json.RawMessage `json:"components"`
	RejectedReason  string          `json:"rejected_reason,omitempty"`
	QualityScore    *struct {
		Score string `json:"score"`
	} `json:"quality_score,omitempty"`
}

// Upload is a file received by the fake resumable upload API.
type Upload struct {
	Content  []byte
	FileType string
}

// management is the fake's Business Management API state.
type management struct {
	accounts  map[string]*Account
	templates map[string][]*Template // by account
	sessions  map[string]*session    // by session id (without the query)
	uploads   map[string]Upload      // by handle
	script    []Response             // answers for the next calls
}

// ScriptManagement queues answers for the next Business Management API
// calls (templates, phone numbers, profiles, uploads), in order, given
// after their credentials were checked. Calls beyond the script are
// answered normally.
func (s *Server) ScriptManagement(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initManagement()
	s.mgmt.script = append(s.mgmt.script, rs...)
}

type session struct {
	sig      string
	length   int
	fileType string
	token    string
}

// AddAccount adds (or replaces) a business account.
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initManagement()
	a.Numbers = slices.Clone(a.Numbers)
	s.mgmt.accounts[a.ID] = &a
}

// AddTemplate stores a template in account, as if it had been created
// and reviewed, and returns its id. Components is its JSON array; an
// empty Status means APPROVED.
func (s *Server) AddTemplate(account string, t Template) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initManagement()
	s.ids++
	t.ID = strconv.Itoa(900000000 + s.ids)
	if t.Status == "" {
		t.Status = "APPROVED"
	}
	if len(t.Components) == 0 {
		t.Components = json.RawMessage("[]")
	}
	s.mgmt.templates[account] = append(s.mgmt.templates[account], &t)
	return t.ID
}

// SetTemplateStatus sets the status of the account's template name in
// language, as a review would, and reports whether it exists.
func (s *Server) SetTemplateStatus(account, name, language, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.mgmt.templates[account] {
		if t.Name == name && t.Language == language {
			t.Status = status
			return true
		}
	}
	return false
}

// Templates returns copies of the account's templates.
func (s *Server) Templates(account string) []Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Template
	for _, t := range s.mgmt.templates[account] {
		out = append(out, *t)
	}
	return out
}

// ProfileOf returns the business profile of the phone number id.
func (s *Server) ProfileOf(phone string) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, n := s.phone(phone)
	if n == nil {
		return Profile{}, false
	}
	return n.Profile, true
}

// UploadOf returns the file uploaded under handle.
func (s *Server) UploadOf(handle string) (Upload, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.mgmt.uploads[handle]
	return u, ok
}

func (s *Server) initManagement() {
	if s.mgmt.accounts == nil {
		s.mgmt = management{script: s.mgmt.script, accounts: map[string]*Account{}, templates: map[string][]*Template{},
			sessions: map[string]*session{}, uploads: map[string]Upload{}}
	}
}

// phone finds a phone number and its account; s.mu is held.
func (s *Server) phone(id string) (*Account, *PhoneNumber) {
	for _, a := range s.mgmt.accounts {
		for i := range a.Numbers {
			if a.Numbers[i].ID == id {
				return a, &a.Numbers[i]
			}
		}
	}
	return nil, nil
}

// template finds a template and its account; s.mu is held.
func (s *Server) template(id string) (string, *Template) {
	for acct, ts := range s.mgmt.templates {
		for _, t := range ts {
			if t.ID == id {
				return acct, t
			}
		}
	}
	return "", nil
}

// owner returns the account the node id (an account, one of its numbers
// or templates) belongs to; s.mu is held.
func (s *Server) owner(id string) *Account {
	if a := s.mgmt.accounts[id]; a != nil {
		return a
	}
	if a, _ := s.phone(id); a != nil {
		return a
	}
	if acct, t := s.template(id); t != nil {
		return s.mgmt.accounts[acct]
	}
	return nil
}

// knownToken reports whether token is the server's or an account's.
func (s *Server) knownToken(token string) bool {
	if token == s.token {
		return true
	}
	for _, a := range s.mgmt.accounts {
		if a.Token == token {
			return true
		}
	}
	return false
}

// manage answers Business Management API calls, reporting false for
// requests that are not one (sends, media).
func (s *Server) manage(w http.ResponseWriter, r *http.Request, req Request, scheme, token string, parts []string) bool {
	if len(parts) < 2 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initManagement()
	id := parts[1]
	isUpload := len(parts) == 3 && parts[2] == "uploads" || len(parts) == 2 && strings.HasPrefix(id, "upload:")
	a := s.owner(id)
	_, tmpl := s.template(id)
	switch {
	case isUpload:
	case a == nil:
		return false
	case len(parts) == 2 && tmpl == nil:
		return false
	case len(parts) == 3 && !slices.Contains([]string{"message_templates", "phone_numbers", "whatsapp_business_profile"}, parts[2]):
		return false
	}
	// Credentials: the account's own token, as a Bearer token; the upload
	// session, the token that opened it, as "OAuth".
	if !s.knownToken(token) {
		write(w, GraphError(http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token"))
		return true
	}
	if a != nil && a.Token != "" && token != a.Token {
		write(w, GraphError(http.StatusForbidden, 200, 0, "(#200) Requires whatsapp_business_management permission to manage the object"))
		return true
	}
	if s.appSecret != "" && req.Query.Get("appsecret_proof") != meta.AppSecretProof(token, s.appSecret) {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument"))
		return true
	}
	wantScheme := "Bearer"
	if len(parts) == 2 && isUpload {
		wantScheme = "OAuth"
	}
	if scheme != wantScheme {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "(#100) The Authorization header must use the "+wantScheme+" scheme"))
		return true
	}
	if len(s.mgmt.script) > 0 {
		next := s.mgmt.script[0]
		s.mgmt.script = s.mgmt.script[1:]
		if next.Hang {
			hang(w)
		} else {
			write(w, next)
		}
		return true
	}
	q := req.Query
	switch {
	case len(parts) == 3 && parts[2] == "uploads" && r.Method == http.MethodPost:
		s.openUpload(w, q, token)
	case isUpload && len(parts) == 2 && r.Method == http.MethodPost:
		s.upload2(w, r, req, id, token)
	case len(parts) == 2:
		switch r.Method {
		case http.MethodGet:
			if !allowed(w, q, []string{"fields"}, "fields") {
				return true
			}
			writeJSON(w, pick(tmpl, q.Get("fields")))
		case http.MethodPost:
			s.editTemplate(w, r, req, tmpl)
		default:
			unsupported(w)
		}
	case parts[2] == "message_templates":
		switch r.Method {
		case http.MethodGet:
			s.listTemplates(w, r.URL.Path, q, a.ID)
		case http.MethodPost:
			s.createTemplate(w, r, req, a.ID)
		case http.MethodDelete:
			s.deleteTemplate(w, q, a.ID)
		default:
			unsupported(w)
		}
	case parts[2] == "phone_numbers" && r.Method == http.MethodGet && a.ID == id:
		s.listNumbers(w, r.URL.Path, q, a)
	case parts[2] == "whatsapp_business_profile" && a.ID != id:
		s.profile(w, r, req, id)
	default:
		unsupported(w)
	}
	return true
}

func unsupported(w http.ResponseWriter) {
	write(w, GraphError(http.StatusBadRequest, 100, 33, "Unsupported request - method type or path is not supported"))
}

func invalidParam(w http.ResponseWriter, msg string) {
	write(w, GraphError(http.StatusBadRequest, 100, 0, "(#100) "+msg))
}

// allowed checks that q holds only the parameters named (and
// appsecret_proof), with the required ones present and none repeated.
func allowed(w http.ResponseWriter, q url.Values, names []string, required ...string) bool {
	for k, v := range q {
		if k == "appsecret_proof" {
			continue
		}
		if !slices.Contains(names, k) {
			invalidParam(w, "Param "+k+" is not a valid parameter of this call")
			return false
		}
		if len(v) != 1 {
			invalidParam(w, "Param "+k+" is given more than once")
			return false
		}
	}
	for _, k := range required {
		if q.Get(k) == "" {
			invalidParam(w, "The parameter "+k+" is required")
			return false
		}
	}
	return true
}

// fieldsOf checks the fields parameter against the fields the node has.
func fieldsOf(w http.ResponseWriter, q url.Values, known []string) ([]string, bool) {
	f := q.Get("fields")
	if f == "" {
		return nil, true
	}
	fields := strings.Split(f, ",")
	for _, x := range fields {
		if !slices.Contains(known, x) {
			invalidParam(w, "Tried accessing nonexisting field ("+x+")")
			return nil, false
		}
	}
	return fields, true
}

var templateFields = []string{"id", "name", "language", "status", "category", "parameter_format", "components", "rejected_reason", "quality_score", "previous_category", "sub_category"}

// pick returns v's JSON object with only the fields asked for (all when
// fields is empty).
func pick(v any, fields string) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	if fields == "" {
		return m
	}
	keep := strings.Split(fields, ",")
	for k := range m {
		if !slices.Contains(keep, k) {
			delete(m, k)
		}
	}
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	write(w, Response{Status: http.StatusOK, Body: string(b)})
}

// page cuts items into the page the limit and after parameters ask for
// and writes it with the Graph API's paging object.
func page[T any](w http.ResponseWriter, s *Server, path string, q url.Values, items []T, item func(T) any) {
	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			invalidParam(w, "Param limit must be a positive integer")
			return
		}
		limit = n
	}
	start := 0
	if a := q.Get("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil || n < 0 || n > len(items) {
			invalidParam(w, "Invalid cursor")
			return
		}
		start = n
	}
	end := min(start+limit, len(items))
	data := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		data = append(data, item(it))
	}
	out := map[string]any{"data": data}
	if len(data) > 0 {
		cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n))) }
		paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end)}}
		if end < len(items) {
			nq := url.Values{}
			for k, v := range q {
				if k != "appsecret_proof" {
					nq[k] = v
				}
			}
			nq.Set("after", cursor(end))
			paging["next"] = s.URL + path + "?" + nq.Encode()
		}
		out["paging"] = paging
	}
	writeJSON(w, out)
}

func (s *Server) listTemplates(w http.ResponseWriter, path string, q url.Values, account string) {
	if !allowed(w, q, []string{"fields", "limit", "after", "name", "status", "category", "language"}) {
		return
	}
	if _, ok := fieldsOf(w, q, templateFields); !ok {
		return
	}
	var match []*Template
	for _, t := range s.mgmt.templates[account] {
		if n := q.Get("name"); n != "" && !strings.Contains(t.Name, n) {
			continue
		}
		if st := q.Get("status"); st != "" && t.Status != st {
			continue
		}
		if c := q.Get("category"); c != "" && t.Category != c {
			continue
		}
		if l := q.Get("language"); l != "" && t.Language != l {
			continue
		}
		match = append(match, t)
	}
	fields := q.Get("fields")
	page(w, s, path, q, match, func(t *Template) any { return pick(t, fields) })
}

// The request bodies of template calls, as the reference describes them:
// decoding rejects unknown fields.
type (
	wireTemplate struct {
		Name                string          `json:"name"`
		Language            string          `json:"language"`
		Category            string          `json:"category"`
		ParameterFormat     string          `json:"parameter_format"`
		AllowCategoryChange bool            `json:"allow_category_change"`
		Components          []wireComponent `json:"components"`
	}
	wireComponent struct {
		Type    string `json:"type"`
		Format  string `json:"format"`
		Text    string `json:"text"`
		Example *struct {
			HeaderText      []string    `json:"header_text"`
			HeaderTextNamed []wireNamed `json:"header_text_named_params"`
			HeaderHandle    []string    `json:"header_handle"`
			BodyText        [][]string  `json:"body_text"`
			BodyTextNamed   []wireNamed `json:"body_text_named_params"`
		} `json:"example"`
		Buttons                   []wireButton `json:"buttons"`
		AddSecurityRecommendation bool         `json:"add_security_recommendation"`
		CodeExpirationMinutes     int          `json:"code_expiration_minutes"`
	}
	wireNamed struct {
		ParamName string `json:"param_name"`
		Example   string `json:"example"`
	}
	wireButton struct {
		Type        string          `json:"type"`
		Text        string          `json:"text"`
		URL         string          `json:"url"`
		PhoneNumber string          `json:"phone_number"`
		OTPType     string          `json:"otp_type"`
		Example     json.RawMessage `json:"example"`
	}
	wireEdit struct {
		Category        string          `json:"category"`
		ParameterFormat string          `json:"parameter_format"`
		Components      []wireComponent `json:"components"`
	}
)

// decodeStrict decodes a JSON request body, rejecting unknown fields and
// trailing data.
func decodeStrict(w http.ResponseWriter, r *http.Request, body []byte, v any) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		invalidParam(w, "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		invalidParam(w, fmt.Sprintf("Invalid parameter: %v", err))
		return false
	}
	return true
}

func checkComponents(comps []wireComponent) string {
	for i, c := range comps {
		switch c.Type {
		case "HEADER", "BODY", "FOOTER", "BUTTONS":
		default:
			return fmt.Sprintf("components[%d].type must be HEADER, BODY, FOOTER or BUTTONS", i)
		}
		for j, b := range c.Buttons {
			switch b.Type {
			case "COPY_CODE":
				var s string
				if json.Unmarshal(b.Example, &s) != nil {
					return fmt.Sprintf("components[%d].buttons[%d].example must be a string for COPY_CODE", i, j)
				}
			case "URL":
				var a []string
				if len(b.Example) > 0 && json.Unmarshal(b.Example, &a) != nil {
					return fmt.Sprintf("components[%d].buttons[%d].example must be an array for URL", i, j)
				}
			}
		}
	}
	return ""
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, req Request, account string) {
	if !allowed(w, req.Query, nil) {
		return
	}
	var t wireTemplate
	if !decodeStrict(w, r, req.Body, &t) {
		return
	}
	switch {
	case t.Name == "" || t.Language == "" || len(t.Components) == 0:
		invalidParam(w, "Param name, language, category and components are required")
		return
	case !slices.Contains([]string{"MARKETING", "UTILITY", "AUTHENTICATION"}, t.Category):
		invalidParam(w, "Param category must be one of {MARKETING, UTILITY, AUTHENTICATION}")
		return
	}
	if msg := checkComponents(t.Components); msg != "" {
		invalidParam(w, msg)
		return
	}
	for _, old := range s.mgmt.templates[account] {
		if old.Name == t.Name && old.Language == t.Language {
			write(w, GraphError(http.StatusBadRequest, 100, 2388024, "Message template already exists: there is already "+t.Language+" content for this template"))
			return
		}
	}
	comps, _ := json.Marshal(t.Components)
	s.ids++
	nt := &Template{ID: strconv.Itoa(900000000 + s.ids), Name: t.Name, Language: t.Language, Status: "PENDING",
		Category: t.Category, ParameterFormat: t.ParameterFormat, Components: reencode(req.Body, comps)}
	s.mgmt.templates[account] = append(s.mgmt.templates[account], nt)
	writeJSON(w, map[string]string{"id": nt.ID, "status": nt.Status, "category": nt.Category})
}

// reencode keeps the components as the client sent them.
func reencode(body, fallback []byte) json.RawMessage {
	var v struct {
		Components json.RawMessage `json:"components"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Components) > 0 {
		return v.Components
	}
	return fallback
}

func (s *Server) editTemplate(w http.ResponseWriter, r *http.Request, req Request, t *Template) {
	if !allowed(w, req.Query, nil) {
		return
	}
	var e wireEdit
	if !decodeStrict(w, r, req.Body, &e) {
		return
	}
	if e.Category == "" && len(e.Components) == 0 {
		invalidParam(w, "Param category or components is required")
		return
	}
	if msg := checkComponents(e.Components); msg != "" {
		invalidParam(w, msg)
		return
	}
	if e.Category != "" {
		t.Category = e.Category
	}
	if len(e.Components) > 0 {
		t.Components = reencode(req.Body, nil)
	}
	if e.ParameterFormat != "" {
		t.ParameterFormat = e.ParameterFormat
	}
	t.Status = "PENDING"
	writeJSON(w, map[string]bool{"success": true})
}

func (s *Server) deleteTemplate(w http.ResponseWriter, q url.Values, account string) {
	if !allowed(w, q, []string{"name", "hsm_id"}, "name") {
		return
	}
	name, id := q.Get("name"), q.Get("hsm_id")
	kept := s.mgmt.templates[account][:0]
	deleted := 0
	for _, t := range s.mgmt.templates[account] {
		if t.Name == name && (id == "" || t.ID == id) {
			deleted++
			continue
		}
		kept = append(kept, t)
	}
	s.mgmt.templates[account] = kept
	if deleted == 0 {
		write(w, GraphError(http.StatusBadRequest, 100, 2593002, "Message template not found: "+name))
		return
	}
	writeJSON(w, map[string]bool{"success": true})
}

var phoneNumberFields = []string{"id", "display_phone_number", "verified_name", "quality_rating", "messaging_limit_tier", "throughput", "throughput{level}", "code_verification_status", "name_status"}

func (s *Server) listNumbers(w http.ResponseWriter, path string, q url.Values, a *Account) {
	if !allowed(w, q, []string{"fields", "limit", "after"}) {
		return
	}
	fields, ok := fieldsOf(w, q, phoneNumberFields)
	if !ok {
		return
	}
	keep := make([]string, 0, len(fields))
	for _, f := range fields {
		keep = append(keep, strings.TrimSuffix(f, "{level}"))
	}
	page(w, s, path, q, a.Numbers, func(n PhoneNumber) any {
		m := map[string]any{"id": n.ID, "display_phone_number": n.DisplayPhoneNumber, "verified_name": n.VerifiedName,
			"quality_rating": n.QualityRating, "messaging_limit_tier": n.MessagingLimitTier,
			"throughput": map[string]string{"level": n.ThroughputLevel}}
		if len(keep) > 0 {
			for k := range m {
				if !slices.Contains(keep, k) {
					delete(m, k)
				}
			}
		}
		return m
	})
}

var profileFields = []string{"about", "address", "description", "email", "profile_picture_url", "websites", "vertical"}

func (s *Server) profile(w http.ResponseWriter, r *http.Request, req Request, phone string) {
	_, n := s.phone(phone)
	switch r.Method {
	case http.MethodGet:
		if !allowed(w, req.Query, []string{"fields"}, "fields") {
			return
		}
		if _, ok := fieldsOf(w, req.Query, profileFields); !ok {
			return
		}
		p := pick(n.Profile, req.Query.Get("fields"))
		p["messaging_product"] = json.RawMessage(`"whatsapp"`)
		writeJSON(w, map[string]any{"data": []any{p}})
	case http.MethodPost:
		if !allowed(w, req.Query, nil) {
			return
		}
		var u struct {
			MessagingProduct     string   `json:"messaging_product"`
			About                *string  `json:"about"`
			Address              *string  `json:"address"`
			Description          *string  `json:"description"`
			Email                *string  `json:"email"`
			Websites             []string `json:"websites"`
			Vertical             *string  `json:"vertical"`
			ProfilePictureHandle string   `json:"profile_picture_handle"`
		}
		if !decodeStrict(w, r, req.Body, &u) {
			return
		}
		if u.MessagingProduct != "whatsapp" {
			invalidParam(w, "The parameter messaging_product is required and must be whatsapp")
			return
		}
		if u.ProfilePictureHandle != "" {
			if _, ok := s.mgmt.uploads[u.ProfilePictureHandle]; !ok {
				invalidParam(w, "Invalid profile_picture_handle")
				return
			}
			n.Profile.ProfilePictureURL = s.URL + "/pps/" + phone + ".jpg"
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&n.Profile.About, u.About)
		set(&n.Profile.Address, u.Address)
		set(&n.Profile.Description, u.Description)
		set(&n.Profile.Email, u.Email)
		set(&n.Profile.Vertical, u.Vertical)
		if u.Websites != nil {
			n.Profile.Websites = u.Websites
		}
		writeJSON(w, map[string]bool{"success": true})
	default:
		unsupported(w)
	}
}

var uploadTypes = []string{"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"}

func (s *Server) openUpload(w http.ResponseWriter, q url.Values, token string) {
	if !allowed(w, q, []string{"file_length", "file_type", "file_name"}, "file_length", "file_type") {
		return
	}
	n, err := strconv.Atoi(q.Get("file_length"))
	if err != nil || n <= 0 {
		invalidParam(w, "Param file_length must be a positive integer")
		return
	}
	if !slices.Contains(uploadTypes, q.Get("file_type")) {
		invalidParam(w, "Param file_type must be one of application/pdf, image/jpeg, image/jpg, image/png, video/mp4")
		return
	}
	id := "upload:" + base64.RawURLEncoding.EncodeToString([]byte("session:"+strconv.Itoa(len(s.mgmt.sessions)+1)))
	sig := randomHex()
	s.mgmt.sessions[id] = &session{sig: sig, length: n, fileType: q.Get("file_type"), token: token}
	writeJSON(w, map[string]string{"id": id + "?sig=" + sig})
}

func (s *Server) upload2(w http.ResponseWriter, r *http.Request, req Request, id, token string) {
	ss := s.mgmt.sessions[id]
	if ss == nil || req.Query.Get("sig") != ss.sig {
		write(w, GraphError(http.StatusBadRequest, 100, 33, "Unsupported post request. Upload session does not exist"))
		return
	}
	if !allowed(w, req.Query, []string{"sig"}, "sig") {
		return
	}
	if token != ss.token {
		write(w, GraphError(http.StatusForbidden, 200, 0, "(#200) The upload session belongs to another user"))
		return
	}
	if r.Header.Get("File_offset") != "0" {
		invalidParam(w, "The file_offset header must be 0 for a new upload")
		return
	}
	if len(req.Body) != ss.length {
		invalidParam(w, fmt.Sprintf("The file is %d bytes, the session was opened for %d", len(req.Body), ss.length))
		return
	}
	h := "4::" + base64.StdEncoding.EncodeToString([]byte(ss.fileType)) + ":" + randomHex()
	s.mgmt.uploads[h] = Upload{Content: bytes.Clone(req.Body), FileType: ss.fileType}
	delete(s.mgmt.sessions, id)
	writeJSON(w, map[string]string{"h": h})
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
