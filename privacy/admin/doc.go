// Package admin is the privacy engine's administration interface: an
// [http.Handler] answering JSON, for the host to mount behind its own
// authentication, with which staff submit and track data-subject
// requests, download exports, place and lift legal holds and read the
// audit log.
//
// It lives apart from package privacy so that the engine's contracts stay
// free of net/http, and hosts that run no admin interface do not link it.
//
// # Routes
//
// Paths are relative to where the handler is mounted; strip the mount
// point with [http.StripPrefix]:
//
//	mux.Handle("/admin/privacy/", http.StripPrefix("/admin/privacy", h))
//
// The routes, and the roles that may call them:
//
//	POST requests                 submit a request                 operator, privacy_officer, admin
//	GET  requests                 list requests                    operator, privacy_officer, admin
//	GET  requests/{id}            a request: status, due date      operator, privacy_officer, admin
//	POST requests/{id}/code       send the verification code       operator, privacy_officer, admin
//	POST requests/{id}/fulfil     carry out a verified request     privacy_officer, admin
//	POST requests/{id}/deny       deny an open request             privacy_officer, admin
//	POST requests/{id}/extend     extend an open request once      privacy_officer, admin
//	GET  requests/{id}/export     the JSON bundle of a completed   privacy_officer, admin
//	                              access or export request
//	GET  audit                    the tenant's audit log           privacy_officer, admin
//	GET  holds                    the tenant's legal holds         privacy_officer, admin
//	POST holds                    place a legal hold               privacy_officer, admin
//	POST holds/{id}/lift          lift a legal hold                privacy_officer, admin
//
// POST requests takes
//
//	{"type": "access|export|erasure|rectification|restriction|objection|consent_withdrawal",
//	 "subject": {"channel": "whatsapp|webwidget|instagram", "id": "<wa_id, user id, visitor id>"},
//	 "tenant": "..."}
//
// and answers 201 with the request (id, status, due date), or 200 with the
// subject's open request of that type when there is one. A request
// submitted by a privacy officer counts as verified (in progress); one
// submitted by anyone else waits for the code the subject receives in
// their own conversation (POST requests/{id}/code), which they answer in
// chat.
//
// # Authorization
//
// Every call is authorized by the configured [Authorizer], which tells who
// calls as a [Principal] with a [Role] and, optionally, the tenants they
// may see. Requests of other tenants are not found. An authorizer's error
// answers 401, or 403 when it wraps [ErrForbidden].
//
// # Audit
//
// Every call, refused ones included, lands in the audit log as a
// [privacy.AuditAdmin] entry naming the route and the status answered,
// before the answer is written: when it cannot be recorded the call
// answers 500 and discloses nothing.
//
// # Errors
//
// Errors become HTTP statuses in one table (see [StatusOf]): invalid
// input 400, unauthenticated 401, forbidden 403, not found 404, a state
// that does not allow the call (a conflict, a legal hold, a failed
// verification, an export not ready) 409, a body over the size cap 413,
// what the configuration cannot do 501, anything else 500. Bodies are
// generic: {"error": {"code": "not_found", "message": "not found"}}; the
// detail goes to the logger.
//
// # Concurrency
//
// A [Handler] is safe for concurrent use.
//
// # Privacy
//
// Answers hold the subject's channel id where staff need it to act; they
// never hold verification codes, the evidence text of a request, nor
// rectified fields. Exports hold all of a subject's data and are
// restricted to privacy officers and admins. Logs hold route names,
// statuses and ids, never personal data.
package admin
