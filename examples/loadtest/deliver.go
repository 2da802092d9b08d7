package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/wagent/wagent/internal/meta"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// driverConfig shapes the webhook traffic.
type driverConfig struct {
	messages, contacts, concurrency int
	// duplicates is the fraction of messages delivered twice at once (to
	// two bots when there are several, as Meta does to every subscribed
	// app and retries do to any instance behind a load balancer).
	duplicates float64
	// rate caps the messages per second; zero means as fast as the bot
	// acknowledges.
	rate          float64
	phoneNumberID string
	appSecret     string
	seed          uint64
}

// driver plays Meta's side that calls the bot: it delivers every message
// as a signed webhook, the messages of one contact one after another in
// order (the next only once the previous one was acknowledged), many
// contacts at once, and delivers again what was not answered 200, with
// backoff, as Meta does.
type driver struct {
	cfg     driverConfig
	hc      *http.Client
	led     *ledger
	targets func() []string
	// onAck is called after each newly acknowledged message with the
	// number acknowledged so far.
	onAck func(acked int)

	dups, failures atomic.Int64
}

// run delivers every message, returning when all are acknowledged or ctx
// is done.
func (d *driver) run(ctx context.Context) {
	var lim *rate.Limiter
	if d.cfg.rate > 0 {
		lim = rate.NewLimiter(rate.Limit(d.cfg.rate), max(1, int(d.cfg.rate/100)))
	}
	workers := min(d.cfg.concurrency, d.cfg.contacts)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(d.cfg.seed, uint64(w)))
			// Worker w owns the contacts c with c % workers == w and sends
			// their messages round by round: message seq of each of its
			// contacts, then seq+1.
			for seq := 0; ; seq++ {
				more := false
				for c := w; c < d.cfg.contacts; c += workers {
					i := seq*d.cfg.contacts + c // the message's global index
					if i >= d.cfg.messages {
						continue
					}
					more = true
					if lim != nil && lim.Wait(ctx) != nil {
						return
					}
					if !d.message(ctx, ref{c, seq}, i, rng.Float64() < d.cfg.duplicates) {
						return
					}
				}
				if !more {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// message delivers one message (twice at once when dup), and reports
// whether it was acknowledged before ctx was done.
func (d *driver) message(ctx context.Context, r ref, i int, dup bool) bool {
	id := "wamid.HBgLLT" + d.led.run + "_" + strconv.Itoa(r.contact) + "_" + strconv.Itoa(r.seq)
	now := time.Now()
	body := whatsapptest.TextDelivery(d.cfg.phoneNumberID, waID(r.contact), "", id, "order "+tag(d.led.run, r.contact, r.seq), now)
	d.led.sending(r, now)
	if !dup {
		return d.deliver(ctx, r, body, i)
	}
	d.dups.Add(1)
	var other atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		other.Store(d.deliver(ctx, r, body, i+1))
	}()
	ok := d.deliver(ctx, r, body, i)
	wg.Wait()
	return ok || other.Load()
}

// deliver posts body to target n (modulo the number of targets) until it
// is answered 200 or ctx is done; a failed attempt goes to the next
// target, as a redelivery may reach another instance.
func (d *driver) deliver(ctx context.Context, r ref, body []byte, n int) bool {
	for attempt := 0; ; attempt++ {
		ts := d.targets()
		start := time.Now()
		status, err := post(ctx, d.hc, ts[(n+attempt)%len(ts)], body, d.cfg.appSecret)
		if err == nil && status == http.StatusOK {
			end := time.Now()
			d.led.delivered(end.Sub(start))
			if acked := d.led.ack(r, end); d.onAck != nil {
				d.onAck(acked)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.failures.Add(1)
		if meta.Sleep(ctx, retryWait(attempt)) != nil {
			return false
		}
	}
}

// post delivers one signed webhook and returns the answer's status.
func post(ctx context.Context, hc *http.Client, url string, body []byte, appSecret string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(meta.SignatureHeader, meta.Sign(body, appSecret))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// retryWait is the wait before redelivery attempt+1: from 20 ms, doubling,
// at most one second, with jitter.
func retryWait(attempt int) time.Duration {
	return meta.Backoff{Base: 20 * time.Millisecond, Max: time.Second}.Delay(attempt + 1)
}
