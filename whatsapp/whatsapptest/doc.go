// Package whatsapptest provides test doubles for code that uses the
// WhatsApp Cloud API through package whatsapp: [Server], a fake Cloud API
// on a loopback [net/http/httptest.Server] that checks credentials, records
// every request and answers as the API does (scripted errors included),
// the Business Management API of the accounts added with
// [Server.AddAccount] (templates with paging and filters, phone numbers,
// business profiles, resumable uploads), which checks each account's own
// token and refuses unknown query parameters and body fields as the API
// does, and builders of signed webhook deliveries ([TextDelivery], [MediaDelivery],
// [StatusDelivery], [Sign]).
//
// Everything here is written from Meta's public reference; nothing talks
// to the real API.
//
// # Concurrency
//
// A Server is safe for concurrent use. [Server.Wait] blocks without polling
// until enough requests arrived.
//
// # Errors
//
// The Server answers like the Cloud API: a Graph error body with code 190
// and HTTP 401 for a wrong token, code 100 for a missing or wrong
// appsecret_proof, and whatever [Server.Script] queued for the next
// message sends.
//
// # Privacy
//
// The fake keeps what it receives in memory for the test to inspect; use
// invented numbers and texts.
package whatsapptest
