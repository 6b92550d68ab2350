package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/streaming"
)

// recorder is an Observer that writes down what it is told, one line per
// report, and marks the contexts it returns so that tests can see where
// they went.
type recorder struct {
	mu    sync.Mutex
	lines []string
	ops   []Operation
	ends  []Outcome
	seq   int
}

type opKey struct{}

func (r *recorder) Start(ctx context.Context, op Operation) (context.Context, OperationObserver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	parent, _ := ctx.Value(opKey{}).(string)
	name := fmt.Sprintf("%s#%d", op.Method, r.seq)
	r.ops = append(r.ops, op)
	r.lines = append(r.lines, fmt.Sprintf("start %s parent=%q stream=%v", name, parent, op.Stream))
	return context.WithValue(ctx, opKey{}, name), &recordedOp{r: r, name: name}
}

func (r *recorder) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

type recordedOp struct {
	r    *recorder
	name string
}

func (o *recordedOp) add(format string, args ...any) {
	o.r.mu.Lock()
	defer o.r.mu.Unlock()
	o.r.lines = append(o.r.lines, o.name+" "+fmt.Sprintf(format, args...))
}

func (o *recordedOp) Attempt(a Attempt) {
	status := 0
	if a.Response != nil {
		status = a.Response.StatusCode
	}
	o.add("attempt %d status=%d err=%v retry=%v delay=%v", a.Number, status, a.Err != nil, a.Retry, a.RetryDelay)
}

func (o *recordedOp) Event(v any) { o.add("event %T", v) }

func (o *recordedOp) End(out Outcome) {
	o.r.mu.Lock()
	o.r.ends = append(o.r.ends, out)
	o.r.mu.Unlock()
	var errType string
	if out.Err != nil {
		errType = fmt.Sprintf("%T", out.Err)
	}
	o.add("end result=%T err=%s closedEarly=%v", out.Result, errType, out.ClosedEarly)
}

// compact folds runs of the same line into "line ×n", so that a stream's
// events read as one line.
func compact(lines []string) string {
	var b strings.Builder
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		b.WriteString(lines[i])
		if j-i > 1 {
			fmt.Fprintf(&b, " ×%d", j-i)
		}
		b.WriteByte('\n')
		i = j
	}
	return b.String()
}

func checkLog(t *testing.T, rec *recorder, want string) {
	t.Helper()
	if got := compact(rec.log()); got != want {
		t.Errorf("observed:\n%s\nwant:\n%s", got, want)
	}
}

// TestObserverSeesACallWithItsRetries: one operation for a call, started
// with its params, each attempt reported (the retried 429 with its delay),
// the attempts sent in the context Start returned, ended once with the
// decoded response.
func TestObserverSeesACallWithItsRetries(t *testing.T) {
	rec := new(recorder)
	var mu sync.Mutex
	var reqOps []string
	seen := func(req *http.Request, next Next) (*http.Response, error) {
		mu.Lock()
		op, _ := req.Context().Value(opKey{}).(string)
		reqOps = append(reqOps, op)
		mu.Unlock()
		return next(req)
	}
	fake, c := newFake(t, WithObserver(rec), WithMiddleware(seen))
	delays := recordDelays(c)
	fake.Enqueue(cerebrastest.RateLimited(2 * time.Second))
	params := chatParams()
	resp, err := c.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, rec, `start Chat.Completions.New#1 parent="" stream=false
Chat.Completions.New#1 attempt 0 status=429 err=false retry=true delay=2s
Chat.Completions.New#1 attempt 1 status=200 err=false retry=false delay=0s
Chat.Completions.New#1 end result=*gen.ChatCompletion err= closedEarly=false
`)
	op := rec.ops[0]
	p, ok := op.Params.(*ChatCompletionNewParams)
	if op.ID != "createChatCompletion" || !ok || p.Model != params.Model || op.BaseURL != fake.URL {
		t.Errorf("Operation = %+v, want createChatCompletion with the params, base URL %s", op, fake.URL)
	}
	if rec.ends[0].Result != resp {
		t.Error("End's Result is not the response the caller got")
	}
	if got := strings.Join(reqOps, ","); got != "Chat.Completions.New#1,Chat.Completions.New#1" {
		t.Errorf("attempts ran in %q, want the operation's context twice", got)
	}
	if len(*delays) != 1 {
		t.Errorf("delays %v", *delays)
	}
}

// TestObserverSeesErrors: an error status ends the operation with the
// *APIError, after its attempt with the status; a connection refused ends
// it with the *ConnectionError; neither is reported twice.
func TestObserverSeesErrors(t *testing.T) {
	rec := new(recorder)
	fake, c := newFake(t, WithObserver(rec))
	fake.Enqueue(cerebrastest.ErrorResponse(400, "invalid_request_error", "bad", "no such thing"))
	if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err == nil {
		t.Fatal("no error")
	}
	checkLog(t, rec, `start Chat.Completions.New#1 parent="" stream=false
Chat.Completions.New#1 attempt 0 status=400 err=false retry=false delay=0s
Chat.Completions.New#1 end result=<nil> err=*apierror.Error closedEarly=false
`)

	rec2 := new(recorder)
	fake.Close()
	_, err := c.Models.List(context.Background(), WithObserver(rec2), WithMaxRetries(0))
	var ce *ConnectionError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConnectionError", err)
	}
	checkLog(t, rec2, `start Models.List#1 parent="" stream=false
Models.List#1 attempt 0 status=0 err=true retry=false delay=0s
Models.List#1 end result=<nil> err=*client.ConnectionError closedEarly=false
`)
}

// TestObserverSeesStreams: a stream's operation lasts until the stream is
// over — read to its end, broken out of, failed mid-way — and reports each
// event; it ends exactly once.
func TestObserverSeesStreams(t *testing.T) {
	t.Run("read to the end", func(t *testing.T) {
		rec := new(recorder)
		_, c := newFake(t, WithObserver(rec))
		_, chunks, err := readChat(t, c, context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkLog(t, rec, fmt.Sprintf(`start Chat.Completions.NewStreaming#1 parent="" stream=true
Chat.Completions.NewStreaming#1 attempt 0 status=200 err=false retry=false delay=0s
Chat.Completions.NewStreaming#1 event *gen.ChatCompletionChunk ×%d
Chat.Completions.NewStreaming#1 end result=<nil> err= closedEarly=false
`, chunks))
	})
	t.Run("broken out of", func(t *testing.T) {
		rec := new(recorder)
		_, c := newFake(t, WithObserver(rec))
		stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams())
		if err != nil {
			t.Fatal(err)
		}
		for range stream.All() {
			break
		}
		_ = stream.Close()
		checkLog(t, rec, `start Chat.Completions.NewStreaming#1 parent="" stream=true
Chat.Completions.NewStreaming#1 attempt 0 status=200 err=false retry=false delay=0s
Chat.Completions.NewStreaming#1 event *gen.ChatCompletionChunk
Chat.Completions.NewStreaming#1 end result=<nil> err= closedEarly=true
`)
	})
	t.Run("failed mid-way", func(t *testing.T) {
		rec := new(recorder)
		fake, c := newFake(t, WithObserver(rec))
		fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 2})
		_, _, err := readChat(t, c, context.Background())
		if !errors.Is(err, streaming.ErrTruncated) {
			t.Fatalf("err = %v, want ErrTruncated", err)
		}
		checkLog(t, rec, `start Chat.Completions.NewStreaming#1 parent="" stream=true
Chat.Completions.NewStreaming#1 attempt 0 status=200 err=false retry=false delay=0s
Chat.Completions.NewStreaming#1 event *gen.ChatCompletionChunk ×2
Chat.Completions.NewStreaming#1 end result=<nil> err=*fmt.wrapError closedEarly=false
`)
		if !errors.Is(rec.ends[0].Err, streaming.ErrTruncated) {
			t.Errorf("End's error %v is not the stream's", rec.ends[0].Err)
		}
	})
	t.Run("replayed before its first event", func(t *testing.T) {
		rec := new(recorder)
		fake, c := newFake(t, WithObserver(rec))
		recordDelays(c)
		fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.ResetMidStream, After: 0})
		_, chunks, err := readChat(t, c, context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkLog(t, rec, fmt.Sprintf(`start Chat.Completions.NewStreaming#1 parent="" stream=true
Chat.Completions.NewStreaming#1 attempt 0 status=200 err=false retry=false delay=0s
Chat.Completions.NewStreaming#1 attempt 0 status=0 err=true retry=true delay=500ms
Chat.Completions.NewStreaming#1 attempt 1 status=200 err=false retry=false delay=0s
Chat.Completions.NewStreaming#1 event *gen.ChatCompletionChunk ×%d
Chat.Completions.NewStreaming#1 end result=<nil> err= closedEarly=false
`, chunks))
	})
}

// TestObserverStreamClosedConcurrently: Close from another goroutine while
// Next runs ends the operation once, and nothing is reported after End
// (run it under -race).
func TestObserverStreamClosedConcurrently(t *testing.T) {
	rec := new(recorder)
	fake, c := newFake(t, WithObserver(rec))
	fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.StallMidStream, After: 1})
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for stream.Next() {
		}
	}()
	_ = stream.Close()
	<-done
	lines := rec.log()
	if n := strings.Count(strings.Join(lines, "\n"), " end "); n != 1 {
		t.Fatalf("%d ends:\n%s", n, compact(lines))
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, " end ") || !strings.Contains(last, "closedEarly=true") {
		t.Errorf("last report %q, want the end of a stream closed early", last)
	}
}

// TestObserverOfBatchesWait: Batches.Wait is an operation whose polls are
// its children (they run in its context); a call's own observer replaces
// the client's.
func TestObserverOfBatchesWait(t *testing.T) {
	_, c := newFake(t)
	b := newBatch(t, c, batchInput(t, 3, false))
	rec := new(recorder)
	got, err := c.Batches.Wait(context.Background(), b.ID, BatchWaitParams{Interval: time.Millisecond}, WithObserver(rec))
	if err != nil {
		t.Fatal(err)
	}
	lines := rec.log()
	if lines[0] != `start Batches.Wait#1 parent="" stream=false` {
		t.Fatalf("first report %q", lines[0])
	}
	if want := `start Batches.Get#2 parent="Batches.Wait#1" stream=false`; lines[1] != want {
		t.Errorf("second report %q, want %q", lines[1], want)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "Batches.Wait#1 end result=*gen.Batch err= ") || rec.ends[len(rec.ends)-1].Result != got {
		t.Errorf("last report %q, want Wait's end with its batch", last)
	}
}
