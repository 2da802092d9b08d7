package meta

import "golang.org/x/time/rate"

// SetRate changes the limiter's rate to r tokens per second in bursts of
// burst, from now on, keeping any pause and strikes: the API granted a
// number a different throughput.
func (l *Limiter) SetRate(r rate.Limit, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bucket.Limit() != r {
		l.bucket.SetLimit(r)
	}
	if l.bucket.Burst() != burst {
		l.bucket.SetBurst(burst)
	}
}
