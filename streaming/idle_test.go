package streaming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// fakeClock is a clock that moves only when the test advances it; its
// timers fire, synchronously, in Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      *fakeClock
	at     time.Time
	f      func()
	active bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	t := &fakeTimer{c: c, f: f}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

// Advance moves the clock by d, runs the functions of the timers due, and
// returns how many ran.
func (c *fakeClock) Advance(d time.Duration) int {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if t.active && !t.at.After(c.now) {
			t.active = false
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
	return len(due)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	was := t.active
	t.at, t.active = t.c.now.Add(d), d > 0
	t.c.mu.Unlock()
	if d <= 0 {
		go t.f() // as a real timer that is due: at once, in its own goroutine
	}
	return was
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

// withClock sets the stream's clock.
func withClock(c clock) Option { return func(cfg *config) { cfg.clock = c } }

// pacedBody is a response body whose reads, once watching, each wait for
// the test: a read reports itself on reading, then goes on when the test
// says so on proceed. The test thus advances a fake clock while the stream
// waits on the network, and knows how many reads it made.
type pacedBody struct {
	io.ReadCloser
	watching atomic.Bool
	reading  chan struct{}
	proceed  chan struct{}
	quit     chan struct{} // closed at the end of the test: reads go on freely
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.watching.Load() {
		select {
		case b.reading <- struct{}{}:
			select {
			case <-b.proceed:
			case <-b.quit:
			}
		case <-b.quit:
		}
	}
	return b.ReadCloser.Read(p)
}

// sendServer writes its first events, then whatever the test sends on
// next, reporting each write once flushed.
type sendServer struct {
	next  chan string
	wrote chan struct{}
}

func (k *sendServer) handler(events string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, events)
		w.(http.Flusher).Flush()
		for {
			var s string
			select {
			case s = <-k.next:
			case <-r.Context().Done():
				return
			}
			if _, err := io.WriteString(w, s); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case k.wrote <- struct{}{}:
			case <-r.Context().Done():
				return
			}
		}
	}
}

// send has the server write s, and waits until it has.
func (k *sendServer) send(s string) {
	k.next <- s
	<-k.wrote
}

// TestStreamIdleTimeoutIgnoresKeepAlives: the idle timeout times the wait
// for the next event, not for bytes. Over loopback, a server stops sending
// events, before the first one or after one, but writes a keep-alive each
// time the stream waits: a comment, a blank line, an event without data, a
// ping with or without data. Each wait lasts 0.4 of the idle timeout, on a
// fake clock; the third wait (1.2 timeouts since the last event) fails the
// stream with ErrIdleTimeout. A server that sends an event every other wait
// (0.8 timeouts) keeps it alive: each event renews the timeout.
func TestStreamIdleTimeoutIgnoresKeepAlives(t *testing.T) {
	const idle = time.Minute // on the fake clock
	const maxWaits = 10
	chunk := "data: " + chunkJSON("a") + "\n\n"
	type tcase struct {
		name      string
		before    int    // events before the keep-alives
		keepAlive string // what the server writes at each wait
		event     bool   // an event instead at every other wait
	}
	var cases []tcase
	for _, ka := range []string{": keep-alive\n\n", "\n", "data:\n\n", "event: ping\n\n", "event: ping\ndata: {}\n\n"} {
		for _, before := range []int{0, 1} {
			cases = append(cases, tcase{fmt.Sprintf("%q after %d events", ka, before), before, ka, false})
		}
	}
	cases = append(cases, tcase{"an event every other wait", 0, ": keep-alive\n\n", true})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a failure guard only
			defer cancel()
			srv := &sendServer{next: make(chan string), wrote: make(chan struct{})}
			resp := serve(t, ctx, srv.handler(strings.Repeat(chunk, tc.before)))
			body := &pacedBody{ReadCloser: resp.Body, reading: make(chan struct{}), proceed: make(chan struct{}), quit: make(chan struct{})}
			resp.Body = body
			clk := &fakeClock{}
			s := NewStream[gen.ChatCompletionChunk](resp, WithIdleTimeout(idle), withClock(clk))
			defer s.Close()
			release := sync.OnceFunc(func() { close(body.quit) })
			defer release()
			got := 0
			for range tc.before {
				if !s.Next() {
					t.Fatalf("no event: %v", s.Err())
				}
				got++
			}

			body.watching.Store(true)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for s.Next() {
					got++
				}
			}()
			waits, fired := 0, 0
		waiting:
			for waits < maxWaits {
				select {
				case <-body.reading: // the stream waits on the network
				case <-done:
					break waiting
				}
				waits++
				fired = clk.Advance(idle * 4 / 10)
				if fired == 0 { // the server answers this wait
					if tc.event && waits%2 == 0 {
						srv.send(chunk)
					} else {
						srv.send(tc.keepAlive)
					}
				}
				body.proceed <- struct{}{}
				if fired > 0 {
					<-done
					break
				}
			}
			if waits == maxWaits {
				_ = s.Close() // ends the stream the fake clock did not
				release()
				<-done
			}
			err := s.Err()
			t.Logf("%d waits of 0.4 timeouts, %d events: %v", waits, got, err)
			if tc.event {
				if waits != maxWaits || fired != 0 || got < maxWaits/2-1 {
					t.Errorf("%d waits, %d events, err %v: an event every other wait should keep the stream alive", waits, got, err)
				}
				return
			}
			var timeout interface{ Timeout() bool }
			if waits != 3 || fired != 1 || got != tc.before || !errors.Is(err, ErrIdleTimeout) || !errors.As(err, &timeout) || !timeout.Timeout() {
				t.Errorf("%d waits (%.1f timeouts) of keep-alives, %d events, err %v; want the 3rd wait to fail the stream with ErrIdleTimeout after %d events",
					waits, 0.4*float64(waits), got, err, tc.before)
			}
		})
	}
}
