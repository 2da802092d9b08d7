package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagent/wagent/internal/meta"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// graphConfig is what the fake Graph API accepts and how it misbehaves.
type graphConfig struct {
	token, appSecret, phoneNumberID string
	// latency (plus a uniform random jitter) delays every answer.
	latency, jitter time.Duration
	// fail5xx, fail429 and hang are the fractions of message sends
	// answered 500 (code 131000), 429 (code 130429), or accepted and then
	// left without an answer (the connection is closed, so the sender
	// cannot know the message went out).
	fail5xx, fail429, hang float64
	// statuses are the delivery statuses posted back to the bot for each
	// accepted message ("sent", "delivered", "read"), statusDelay after it
	// was accepted.
	statuses    []string
	statusDelay time.Duration
}

// graphCounts are the fake's counters.
type graphCounts struct {
	Sends       int64 `json:"sends"` // send requests, failed ones included
	Accepted    int64 `json:"accepted"`
	Injected5xx int64 `json:"injected_5xx"`
	Injected429 int64 `json:"injected_429"`
	Hung        int64 `json:"hung"`
	Typing      int64 `json:"typing"`
	Read        int64 `json:"read"`
	Refused     int64 `json:"refused"` // bad token, proof, path or body
	Statuses    int64 `json:"statuses_delivered"`
	StatusFails int64 `json:"status_delivery_failures"`
}

// graphAPI plays the Cloud API's side that the bot calls: POST
// /{version}/{phone_number_id}/messages, answering sends with a wamid and
// read receipts and typing indicators with success, as the real API does,
// and posting the delivery statuses of accepted messages back to the bot's
// webhook, signed, retried until acknowledged, with the message's
// biz_opaque_callback_data. Every accepted message is booked in the ledger.
type graphAPI struct {
	cfg  graphConfig
	led  *ledger
	ids  atomic.Int64
	n    struct{ sends, accepted, f5xx, f429, hung, typing, read, refused, statuses, statusFails atomic.Int64 }
	outq *statusQueue
}

func newGraphAPI(cfg graphConfig, led *ledger) *graphAPI {
	return &graphAPI{cfg: cfg, led: led, outq: newStatusQueue()}
}

func (g *graphAPI) counts() graphCounts {
	return graphCounts{
		Sends: g.n.sends.Load(), Accepted: g.n.accepted.Load(), Injected5xx: g.n.f5xx.Load(), Injected429: g.n.f429.Load(),
		Hung: g.n.hung.Load(), Typing: g.n.typing.Load(), Read: g.n.read.Load(), Refused: g.n.refused.Load(),
		Statuses: g.n.statuses.Load(), StatusFails: g.n.statusFails.Load(),
	}
}

// sendRequest is the part of a POST .../messages body the fake reads.
type sendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	To               string `json:"to"`
	Recipient        string `json:"recipient"`
	Type             string `json:"type"`
	Text             *struct {
		Body string `json:"body"`
	} `json:"text"`
	Status          string          `json:"status"`
	MessageID       string          `json:"message_id"`
	TypingIndicator json.RawMessage `json:"typing_indicator"`
	BizOpaque       string          `json:"biz_opaque_callback_data"`
}

func (g *graphAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	refuse := func(resp whatsapptest.Response) {
		g.n.refused.Add(1)
		write(w, resp)
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token != g.cfg.token {
		refuse(whatsapptest.GraphError(http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token"))
		return
	}
	if g.cfg.appSecret != "" && r.URL.Query().Get("appsecret_proof") != meta.AppSecretProof(token, g.cfg.appSecret) {
		refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument"))
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || !validVersion(parts[0]) || parts[2] != "messages" {
		refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 33, "Unsupported request - method type: "+strings.ToLower(r.Method)))
		return
	}
	if parts[1] != g.cfg.phoneNumberID {
		refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 33, "Unsupported post request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation"))
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 0, "(#100) Invalid parameter"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var m sendRequest
	if err != nil || json.Unmarshal(body, &m) != nil || m.MessagingProduct != "whatsapp" {
		refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 0, "(#100) Invalid parameter"))
		return
	}
	if m.Status != "" {
		if m.Status != "read" || m.MessageID == "" {
			refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 0, "(#100) Invalid parameter"))
			return
		}
		if m.TypingIndicator != nil {
			g.n.typing.Add(1)
		} else {
			g.n.read.Add(1)
		}
		g.delay()
		write(w, whatsapptest.Response{Body: `{"success":true}`})
		return
	}
	to := m.To
	if to == "" {
		to = m.Recipient
	}
	if to == "" || m.Type == "" {
		refuse(whatsapptest.GraphError(http.StatusBadRequest, 100, 0, "(#100) The parameter to is required."))
		return
	}
	g.n.sends.Add(1)
	switch x := rand.Float64(); {
	case x < g.cfg.fail5xx:
		g.n.f5xx.Add(1)
		g.delay()
		write(w, whatsapptest.GraphError(http.StatusInternalServerError, 131000, 0, "(#131000) Something went wrong"))
		return
	case x < g.cfg.fail5xx+g.cfg.fail429:
		g.n.f429.Add(1)
		g.delay()
		write(w, whatsapptest.GraphError(http.StatusTooManyRequests, 130429, 0, "(#130429) Rate limit hit"))
		return
	}
	// Accepted: from here the message goes out whatever happens to the
	// answer, which comes after the latency.
	id := "wamid.HBgLLT" + g.led.run + strconv.FormatInt(g.ids.Add(1), 36)
	text := ""
	if m.Text != nil {
		text = m.Text.Body
	}
	g.n.accepted.Add(1)
	g.led.reply(to, text, time.Now())
	due := time.Now().Add(g.cfg.statusDelay)
	for _, st := range g.cfg.statuses {
		g.outq.push(statusJob{recipient: to, id: id, status: st, correlation: m.BizOpaque, due: due})
	}
	g.delay()
	if g.cfg.hang > 0 && rand.Float64() < g.cfg.hang {
		g.n.hung.Add(1)
		hangUp(w)
		return
	}
	resp, _ := json.Marshal(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{map[string]string{"input": to, "wa_id": to}},
		"messages":          []any{map[string]string{"id": id}},
	})
	write(w, whatsapptest.Response{Body: string(resp)})
}

func (g *graphAPI) delay() {
	d := g.cfg.latency
	if g.cfg.jitter > 0 {
		d += rand.N(g.cfg.jitter)
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// validVersion reports whether v is a Graph API version such as v25.0.
func validVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	_, err1 := strconv.Atoi(major)
	_, err2 := strconv.Atoi(minor)
	return strings.HasPrefix(v, "v") && ok && err1 == nil && err2 == nil
}

func write(w http.ResponseWriter, r whatsapptest.Response) {
	for k, v := range r.Header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(max(r.Status, http.StatusOK))
	io.WriteString(w, r.Body)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// statusJob is one delivery status to post to the bot.
type statusJob struct {
	recipient, id, status, correlation string
	due                                time.Time // not posted before
}

// statusQueue is an unbounded FIFO of statuses waiting to be posted, so
// that the fake's answers never wait for the bot's webhook.
type statusQueue struct {
	mu       sync.Mutex
	items    []statusJob
	inflight int
	wake     chan struct{} // one token: items were added
}

func newStatusQueue() *statusQueue { return &statusQueue{wake: make(chan struct{}, 1)} }

func (q *statusQueue) push(j statusJob) {
	q.mu.Lock()
	q.items = append(q.items, j)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest job, waiting for one until ctx is done.
func (q *statusQueue) pop(ctx context.Context) (statusJob, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			j := q.items[0]
			q.items[0] = statusJob{}
			q.items = q.items[1:]
			q.inflight++
			more := len(q.items) > 0
			q.mu.Unlock()
			if more { // pass the wake-up on to another worker
				select {
				case q.wake <- struct{}{}:
				default:
				}
			}
			return j, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
			return statusJob{}, false
		}
	}
}

func (q *statusQueue) done() {
	q.mu.Lock()
	q.inflight--
	q.mu.Unlock()
}

// pending returns the jobs queued or being posted.
func (q *statusQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) + q.inflight
}

// postStatuses posts queued statuses to the webhooks targets (spread
// between them) with workers goroutines until ctx is done, retrying each
// until a 200.
func (g *graphAPI) postStatuses(ctx context.Context, hc *http.Client, targets func() []string, workers int) {
	var wg sync.WaitGroup
	var next atomic.Uint64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j, ok := g.outq.pop(ctx)
				if !ok {
					return
				}
				if meta.Sleep(ctx, time.Until(j.due)) != nil {
					g.outq.done()
					return
				}
				body := whatsapptest.StatusDelivery(g.cfg.phoneNumberID, j.recipient, j.id, j.status, j.correlation, 0, time.Now())
				for attempt := 0; ; attempt++ {
					ts := targets()
					url := ts[next.Add(1)%uint64(len(ts))]
					status, err := post(ctx, hc, url, body, g.cfg.appSecret)
					if err == nil && status == http.StatusOK {
						g.n.statuses.Add(1)
						break
					}
					g.n.statusFails.Add(1)
					if meta.Sleep(ctx, retryWait(attempt)) != nil {
						break
					}
				}
				g.outq.done()
			}
		}()
	}
	wg.Wait()
}
