package cerebrastest_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

const streamedChat = `{"model":"gemma-4-31b","stream":true,"messages":[{"role":"user","content":"hello there"}]}`

// TestFirstEventDelayRunsOnTheClock: a stream's headers come at once, its
// first event only when the server's stopped clock has moved past the
// delay; a call that does not stream waits before its response; each
// request draws its own n.
func TestFirstEventDelayRunsOnTheClock(t *testing.T) {
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	arrived := make(chan int, 4)
	srv := cerebrastest.NewServer(t, cerebrastest.WithClock(clk), cerebrastest.WithFirstEventDelay(func(n int) time.Duration {
		arrived <- n
		return time.Duration(n+1) * time.Second
	}))

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(streamedChat))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req) // the headers arrive while the clock stands still
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n := <-arrived; n != 0 || resp.StatusCode != 200 {
		t.Fatalf("n = %d, status %d", n, resp.StatusCode)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	clk.Advance(999 * time.Millisecond)
	if srv.FirstEventDelays() != 1 {
		t.Fatalf("FirstEventDelays = %d, want 1", srv.FirstEventDelays())
	}
	clk.Advance(time.Millisecond) // now 1 s has passed on the clock: the first event goes out
	if l := <-lines; !strings.HasPrefix(l, "data: {") {
		t.Fatalf("first line %q, want a data event", l)
	}
	for range lines {
	}

	// A call that does not stream: its response waits 2 s of the clock.
	done := make(chan int)
	go func() {
		status, _, _ := send(t, srv, limitedChat)
		done <- status
	}()
	if n := <-arrived; n != 1 {
		t.Fatalf("n = %d, want 1", n)
	}
	select {
	case s := <-done:
		t.Fatalf("answered (%d) before the clock moved", s)
	default:
	}
	clk.Advance(2 * time.Second)
	if s := <-done; s != 200 {
		t.Fatalf("status %d", s)
	}
}

// TestFirstEventDelayEndsWithTheClient: a client that gives up ends the
// wait, and its connection closes, though the clock never moves.
func TestFirstEventDelayEndsWithTheClient(t *testing.T) {
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	arrived := make(chan struct{}, 1)
	srv := cerebrastest.NewServer(t, cerebrastest.WithClock(clk), cerebrastest.WithFirstEventDelay(func(int) time.Duration {
		arrived <- struct{}{}
		return time.Hour
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(limitedChat))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the request was answered")
	}
	// The handler returns once its wait ends: the connection is then closed
	// by the server too (the client already closed its side).
	deadline := time.Now().Add(time.Minute)
	for srv.OpenConnections() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.OpenConnections(); n != 0 {
		t.Errorf("%d connections open, want 0", n)
	}
}

// TestHeavyTail: the share of slow answers is about p, and the same seed
// draws the same delays.
func TestHeavyTail(t *testing.T) {
	d := cerebrastest.HeavyTail(time.Millisecond, time.Second, 0.05, 7)
	again := cerebrastest.HeavyTail(time.Millisecond, time.Second, 0.05, 7)
	slow := 0
	for n := range 10000 {
		v := d(n)
		if v != again(n) {
			t.Fatalf("n=%d: %v then %v", n, v, again(n))
		}
		switch v {
		case time.Second:
			slow++
		case time.Millisecond:
		default:
			t.Fatalf("n=%d: %v", n, v)
		}
	}
	if slow < 400 || slow > 600 {
		t.Errorf("%d of 10000 slow, want about 500", slow)
	}
	if none := cerebrastest.HeavyTail(0, time.Second, 0, 1); none(3) != 0 {
		t.Error("p=0 drew the tail")
	}
}
