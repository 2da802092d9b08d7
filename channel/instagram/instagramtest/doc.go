// Package instagramtest provides test doubles for code that uses Instagram
// Direct through package instagram: [Server], a fake Graph API Send API on
// a loopback [net/http/httptest.Server] that checks credentials and the
// shape of every request as the API does, records every request and
// answers as the API does (scripted errors, closed windows, profiles),
// and builders of signed webhook deliveries ([TextDelivery],
// [ReadDelivery], [EchoDelivery], [DeliveryReceipt], [Sign]).
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
// The Server answers like the Graph API: code 190 and HTTP 401 for a wrong
// token, code 100 for a missing or wrong appsecret_proof and for a body
// the Send API would refuse (naming the rule broken), code 10 subcode
// 2534022 for a message outside a window closed with [Server.CloseWindow],
// and whatever [Server.Script] queued for the next message sends.
//
// # Privacy
//
// The fake keeps what it receives in memory for the test to inspect; use
// invented ids and texts.
package instagramtest
