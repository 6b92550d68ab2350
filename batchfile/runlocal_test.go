package batchfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/internal/spec"
	"github.com/cerebras-go/cerebras/internal/usage"
)

// bulkInput writes n requests with NewWriter, custom_ids q000…,
// each asking "question <id>"; edit, if set, changes a request's params.
func bulkInput(t *testing.T, n int, edit func(i int, p *client.ChatCompletionNewParams)) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i := range n {
		id := fmt.Sprintf("q%03d", i)
		p := client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B, Messages: []client.ChatMessage{client.UserMessage("question " + id)}}
		if edit != nil {
			edit(i, &p)
		}
		if err := w.Add(id, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// bulkOutput opens (or creates) the results file path, closed when the
// test ends; flags are added to os.O_RDWR|os.O_CREATE.
func bulkOutput(t *testing.T, path string, flags ...int) *os.File {
	t.Helper()
	flag := os.O_RDWR | os.O_CREATE
	for _, f := range flags {
		flag |= f
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// bulkResults reads the results file with Results, by custom_id,
// failing on an unreadable line and reporting a custom_id seen twice.
func bulkResults(t *testing.T, path string) map[string]Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return resultsByID(t, f)
}

// sentPerID counts the chat requests the fake received, by the custom_id
// their question names.
func sentPerID(t *testing.T, fake *cerebrastest.Server) map[string]int {
	t.Helper()
	sent := map[string]int{}
	for _, r := range fake.Requests() {
		if r.Path != "/v1/chat/completions" {
			continue
		}
		var body struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Messages) == 0 {
			t.Fatalf("a chat request the test did not make: %s", r.Body)
		}
		sent[strings.TrimPrefix(body.Messages[0].Content, "question ")]++
	}
	return sent
}

// A run cancelled after K results, then run again with the same output,
// ends with every custom_id exactly once, and sends none that the first run
// had finished.
func TestRunLocalKillAndRerun(t *testing.T) {
	const n, k = 40, 10
	fake, c := newFake(t)
	input := bulkInput(t, n, nil)
	path := filepath.Join(t.TempDir(), "results.jsonl")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p1, err := RunLocal(ctx, c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{
		Concurrency: 4,
		OnProgress: func(p Progress) {
			if p.Completed >= k {
				cancel() // the "crash": nothing after it may be lost but what is in flight
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: err = %v, want context.Canceled", err)
	}
	first := bulkResults(t, path)
	if len(first) < k || len(first) >= n || p1.Completed != len(first) {
		t.Fatalf("first run wrote %d results, reported %d completed; want %d ≤ results < %d", len(first), p1.Completed, k, n)
	}
	if p1.Total != -1 && p1.Total != n {
		t.Errorf("first run: Total = %d", p1.Total)
	}

	p2, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{Concurrency: 4})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	want := Progress{Total: n, Skipped: len(first), Completed: n - len(first)}
	if got := (Progress{Total: p2.Total, Skipped: p2.Skipped, Completed: p2.Completed, Failed: p2.Failed, Unfinished: p2.Unfinished}); got != want {
		t.Errorf("second run: %+v, want %+v", got, want)
	}
	all := bulkResults(t, path)
	sent := sentPerID(t, fake)
	for i := range n {
		id := fmt.Sprintf("q%03d", i)
		res, ok := all[id]
		switch {
		case !ok:
			t.Errorf("%s is not in the output", id)
		case res.Status != StatusSucceeded || res.Completion == nil ||
			res.Completion.Choices[0].Message.Content != "You said: question "+id:
			t.Errorf("%s: %s %s", id, res.Status, res.Raw)
		}
		if _, done := first[id]; done && sent[id] != 1 {
			t.Errorf("%s was finished by the first run but sent %d times", id, sent[id])
		} else if sent[id] < 1 || sent[id] > 2 {
			t.Errorf("%s was sent %d times", id, sent[id])
		}
	}
	if len(all) != n {
		t.Errorf("%d results, want %d", len(all), n)
	}
}

// finishedRun runs n requests (bulkInput) to the end, one at a time, and
// returns the fake, the client, the input, the output's path and content.
func finishedRun(t *testing.T, n int) (*cerebrastest.Server, *client.Client, string, string, []byte) {
	t.Helper()
	fake, c := newFake(t)
	input := bulkInput(t, n, nil)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	if _, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, input, path, data
}

// A last line torn by a crash mid-write is cut off and its request run
// again; a whole last line without its LF is kept.
func TestRunLocalResumeAfterTornLine(t *testing.T) {
	const n = 6
	for _, tc := range []struct {
		name    string
		cut     int  // bytes cut off the end of a finished output
		resent  bool // the last result's request is sent again
		skipped int
	}{
		{"torn mid-line", 25, true, n - 1},
		{"torn before its closing brace", 2, true, n - 1},
		{"whole without its LF", 1, false, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, input, path, data := finishedRun(t, n)
			lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
			var last struct {
				CustomID string `json:"custom_id"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data[:len(data)-tc.cut], 0o644); err != nil {
				t.Fatal(err)
			}

			// O_APPEND: writes go to the end whatever the offset, so the torn
			// line must be cut off, not overwritten.
			p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path, os.O_APPEND), RunParams{Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			if p.Skipped != tc.skipped || p.Completed != n-tc.skipped {
				t.Errorf("skipped %d, completed %d; want %d, %d", p.Skipped, p.Completed, tc.skipped, n-tc.skipped)
			}
			if all := bulkResults(t, path); len(all) != n {
				t.Errorf("%d results, want %d", len(all), n)
			}
			if after, _ := os.ReadFile(path); !bytes.HasSuffix(after, []byte("}\n")) {
				t.Errorf("the output does not end with a whole line: %q", after[max(0, len(after)-20):])
			}
			want := 1
			if tc.resent {
				want = 2
			}
			if got := sentPerID(t, fake)[last.CustomID]; got != want {
				t.Errorf("the last result's request (%s) was sent %d times, want %d", last.CustomID, got, want)
			}
		})
	}
}

// A 429 is retried by the client, as retry-after says, and the result is a
// success.
func TestRunLocalRetries429(t *testing.T) {
	const n = 10
	fake, c := newFake(t)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(bulkInput(t, n, nil)), bulkOutput(t, path),
		RunParams{Concurrency: 3}, client.WithHeader(cerebrastest.FaultHeader, "429-once"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Completed != n || p.Failed != 0 || p.Unfinished != 0 {
		t.Errorf("progress %+v, want %d completed", p, n)
	}
	for id, res := range bulkResults(t, path) {
		if res.Status != StatusSucceeded || res.Completion == nil {
			t.Errorf("%s: %s", id, res.Raw)
		}
	}
	for id, sent := range sentPerID(t, fake) {
		if sent != 2 {
			t.Errorf("%s sent %d times, want 2 (the 429, then its retry)", id, sent)
		}
	}
}

// A request the API refuses is written as a failed result, readable by
// Results with the API's error, and not sent again by a rerun;
// the progress adds up the tokens of the completed ones.
func TestRunLocalAPIFailures(t *testing.T) {
	const n = 9
	fake, c := newFake(t)
	input := bulkInput(t, n, func(i int, p *client.ChatCompletionNewParams) {
		if i%3 == 0 {
			p.Temperature = client.Float(5) // out of the API's range: 422
		}
	})
	path := filepath.Join(t.TempDir(), "results.jsonl")
	var calls []Progress
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{
		Concurrency: 2,
		OnProgress:  func(p Progress) { calls = append(calls, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Completed != 6 || p.Failed != 3 || p.Total != n {
		t.Errorf("progress %+v, want 6 completed, 3 failed of %d", p, n)
	}
	var sum client.Usage
	for id, res := range bulkResults(t, path) {
		var i int
		fmt.Sscanf(id, "q%d", &i)
		if i%3 != 0 {
			if res.Status != StatusSucceeded || res.Completion == nil || res.Completion.Usage == nil {
				t.Errorf("%s: %s", id, res.Raw)
				continue
			}
			usage.Add(&sum, res.Completion.Usage)
			continue
		}
		if res.Status != StatusFailed || res.Error == nil || res.Completion != nil ||
			!strings.Contains(res.Error.Message, "temperature") {
			t.Errorf("%s: want a failed result naming temperature, got %s", id, res.Raw)
		}
	}
	if p.Usage != sum || sum.PromptTokens == 0 || sum.CompletionTokens == 0 || sum.TotalTokens == 0 {
		t.Errorf("progress usage %+v, the results' usage %+v", p.Usage, sum)
	}
	// One call per result and one when the input was read; counts only grow.
	if len(calls) != n+1 {
		t.Errorf("%d progress calls, want %d", len(calls), n+1)
	}
	for i := 1; i < len(calls); i++ {
		if a, b := calls[i-1], calls[i]; b.Completed < a.Completed || b.Failed < a.Failed {
			t.Errorf("progress went back: %+v then %+v", a, b)
		}
	}
	if last := calls[len(calls)-1]; last.Completed != p.Completed || last.Failed != p.Failed {
		t.Errorf("last progress %+v, returned %+v", last, p)
	}

	p, err = RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{})
	if err != nil || p.Skipped != n || p.Completed+p.Failed != 0 {
		t.Errorf("rerun: %+v, %v; want all %d skipped", p, err, n)
	}
	if got := len(sentPerID(t, fake)); got != n {
		t.Errorf("%d custom_ids sent, want %d", got, n)
	}
}

// A request with no answer to record (a 503 with retries off) is not
// written: the run says so, and the next one sends it.
func TestRunLocalUnfinished(t *testing.T) {
	const n = 5
	_, c := newFake(t)
	input := bulkInput(t, n, nil)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{Concurrency: 2},
		client.WithMaxRetries(0), client.WithHeader(cerebrastest.FaultHeader, "503-once"))
	if !errors.Is(err, ErrUnfinished) || !errors.Is(err, client.ErrServiceUnavailable) {
		t.Fatalf("err = %v, want ErrUnfinished and the 503", err)
	}
	if p.Unfinished != n || p.Completed+p.Failed != 0 {
		t.Errorf("progress %+v, want %d unfinished", p, n)
	}
	if got := bulkResults(t, path); len(got) != 0 {
		t.Errorf("%d results written, want none", len(got))
	}
	p, err = RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{})
	if err != nil || p.Completed != n {
		t.Fatalf("rerun: %+v, %v", p, err)
	}
	if got := bulkResults(t, path); len(got) != n {
		t.Errorf("%d results, want %d", len(got), n)
	}
}

// An error that would fail every request alike, such as a wrong API key,
// stops the run without writing a result, so the rerun sends them all.
func TestRunLocalStopsOnAuthError(t *testing.T) {
	fake := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithAPIKey("csk-right"))
	c, err := client.New(client.WithAPIKey("csk-wrong"), client.WithBaseURL(fake.URL), client.WithoutEnvironment(), client.WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	input := bulkInput(t, 10, nil)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{Concurrency: 1})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || p.Completed+p.Failed != 0 {
		t.Fatalf("%+v, %v; want the 401 and nothing written", p, err)
	}
	if got := bulkResults(t, path); len(got) != 0 {
		t.Errorf("%d results written, want none", len(got))
	}
	if sent := len(sentPerID(t, fake)); sent != 1 {
		t.Errorf("%d requests sent, want 1: the run stops at the first 401", sent)
	}

	c2, err := client.New(client.WithAPIKey("csk-right"), client.WithBaseURL(fake.URL), client.WithoutEnvironment(), client.WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if p, err := RunLocal(context.Background(), c2.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{}); err != nil || p.Completed != 10 {
		t.Fatalf("rerun with the right key: %+v, %v", p, err)
	}
}

// The input is checked as the writer checks it: the bad line stops the
// run, named, and the lines before it keep their results.
func TestRunLocalInputErrors(t *testing.T) {
	good := func(id string) string {
		return `{"custom_id":"` + id + `","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","messages":[{"role":"user","content":"question ` + id + `"}]}}` + "\n"
	}
	for _, tc := range []struct {
		name, bad string
		sentinel  error
	}{
		{"duplicate custom_id", good("a"), ErrDuplicateID},
		{"second model", `{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{"model":"other","messages":[{"role":"user","content":"hi"}]}}` + "\n", ErrModelMismatch},
		{"empty custom_id", good(""), ErrEmptyID},
		{"streaming", `{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","stream":true,"messages":[{"role":"user","content":"hi"}]}}` + "\n", client.ErrInvalidInput},
		{"CRLF", strings.TrimSuffix(good("x"), "\n") + "\r\n", ErrMalformedLine},
		{"blank", "\n", ErrMalformedLine},
		{"not JSON", "{\n", ErrMalformedLine},
		{"unknown field", `{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","temprature":1,"messages":[{"role":"user","content":"hi"}]}}` + "\n", ErrMalformedLine},
		{"other endpoint", `{"custom_id":"x","method":"POST","url":"/v1/completions","body":{"model":"gpt-oss-120b","messages":[{"role":"user","content":"hi"}]}}` + "\n", ErrMalformedLine},
		{"invalid UTF-8", `{"custom_id":"x` + "\xff" + `","method":"POST"}` + "\n", ErrInvalidUTF8},
		{"too long", `{"custom_id":"x","pad":"` + strings.Repeat("a", MaxLineBytes) + `"}` + "\n", ErrLineTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := newFake(t)
			input := good("a") + good("b") + tc.bad + good("c")
			path := filepath.Join(t.TempDir(), "results.jsonl")
			_, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{Concurrency: 1})
			var le *LineError
			if !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, client.ErrInvalidInput) || !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want a *LineError for line 3 matching %v", err, tc.sentinel)
			}
			if got := bulkResults(t, path); len(got) != 2 || got["a"].Completion == nil || got["b"].Completion == nil {
				t.Errorf("results %v, want a and b", got)
			}
			if sent := sentPerID(t, fake); len(sent) != 2 {
				t.Errorf("sent %v, want a and b only", sent)
			}
		})
	}
}

// A blank last line ends the input, as the Batch API reads it; a blank line
// before another is an error (TestRunLocalInputErrors).
func TestRunLocalBlankLastLine(t *testing.T) {
	_, c := newFake(t)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(bulkInput(t, 2, nil)+" \n"), bulkOutput(t, path), RunParams{})
	if err != nil || p.Completed != 2 || p.Total != 2 {
		t.Fatalf("%+v, %v; want 2 completed", p, err)
	}
}

// RunLocalSeq runs requests from an iterator; its error stops the run.
func TestRunLocalSeq(t *testing.T) {
	_, c := newFake(t)
	stop := errors.New("the source failed")
	seq := func(yield func(Request, error) bool) {
		for _, id := range []string{"x", "y"} {
			if !yield(Request{CustomID: id, Params: batchParams(client.ModelGPTOSS120B, "question "+id)}, nil) {
				return
			}
		}
		yield(Request{}, stop)
	}
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocalSeq(context.Background(), c.Chat.Completions, seq, bulkOutput(t, path), RunParams{Concurrency: 1})
	if !errors.Is(err, stop) || p.Completed != 2 {
		t.Fatalf("%+v, %v; want 2 completed and the source's error", p, err)
	}
	if got := bulkResults(t, path); len(got) != 2 {
		t.Errorf("%d results, want 2", len(got))
	}
}

// Exactly Concurrency requests are in flight at once: the first ones wait,
// at the transport, until that many have arrived.
func TestRunLocalConcurrency(t *testing.T) {
	const conc, n = 5, 15
	var mu sync.Mutex
	inFlight, most := 0, 0
	full := make(chan struct{})
	mw := func(req *http.Request, next client.Next) (*http.Response, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == conc {
			select {
			case <-full:
			default:
				close(full)
			}
		}
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		select {
		case <-full:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		return next(req)
	}
	_, c := newFake(t, client.WithMiddleware(mw))
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(bulkInput(t, n, nil)), bulkOutput(t, path), RunParams{Concurrency: conc})
	if err != nil || p.Completed != n {
		t.Fatalf("%+v, %v", p, err)
	}
	if most != conc {
		t.Errorf("at most %d requests in flight, want %d", most, conc)
	}
}

func TestRunLocalParamErrors(t *testing.T) {
	_, c := newFake(t)
	out := bulkOutput(t, filepath.Join(t.TempDir(), "results.jsonl"))
	in := func() *strings.Reader { return strings.NewReader(bulkInput(t, 1, nil)) }
	var nilSeq iter.Seq2[Request, error]
	var nilCtx context.Context
	for name, run := range map[string]func() error{
		"negative concurrency": func() error {
			_, err := RunLocal(context.Background(), c.Chat.Completions, in(), out, RunParams{Concurrency: -1})
			return err
		},
		"too much concurrency": func() error {
			_, err := RunLocal(context.Background(), c.Chat.Completions, in(), out, RunParams{Concurrency: MaxConcurrency + 1})
			return err
		},
		"nil output": func() error {
			_, err := RunLocal(context.Background(), c.Chat.Completions, in(), nil, RunParams{})
			return err
		},
		"nil input": func() error {
			_, err := RunLocal(context.Background(), c.Chat.Completions, nil, out, RunParams{})
			return err
		},
		"bad option": func() error { // every request would fail: the run stops at the first
			_, err := RunLocal(context.Background(), c.Chat.Completions, in(), out, RunParams{}, client.WithHeader("Bad Name", "x"))
			return err
		},
		"nil ctx": func() error {
			_, err := RunLocal(nilCtx, c.Chat.Completions, in(), out, RunParams{})
			return err
		},
		"nil ctx, sequence": func() error {
			_, err := RunLocalSeq(nilCtx, c.Chat.Completions, readBatchInput(in()), out, RunParams{})
			return err
		},
		"nil requests": func() error {
			_, err := RunLocalSeq(context.Background(), c.Chat.Completions, nilSeq, out, RunParams{})
			return err
		},
	} {
		var pe *client.ParamError
		if err := run(); !errors.As(err, &pe) || !errors.Is(err, client.ErrInvalidInput) || errors.Is(err, ErrUnfinished) {
			t.Errorf("%s: err = %v, want a *ParamError", name, err)
		}
	}
}

// BenchmarkBulkRunner measures RunLocal's throughput against the fake at
// concurrency 1, 16 and 64, reporting requests per second and the ratio to
// concurrency 1 measured in the same run. latency=0 answers at once, so it
// measures the runner, client and fake sharing this machine's CPUs;
// latency=5ms holds every request that long before sending it (middleware),
// standing in for the model's time, which is what concurrency is for.
func BenchmarkBulkRunner(b *testing.B) {
	fake := cerebrastest.NewServer(b, cerebrastest.WithSpecFile("../openapi.yaml"))
	for _, latency := range []time.Duration{0, 5 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%v", latency), func(b *testing.B) {
			opts := []client.Option{client.WithAPIKey(testKey), client.WithBaseURL(fake.URL), client.WithoutEnvironment(), client.WithTCPWarming(false)}
			if latency > 0 {
				opts = append(opts, client.WithMiddleware(func(req *http.Request, next client.Next) (*http.Response, error) {
					t := time.NewTimer(latency)
					defer t.Stop()
					select {
					case <-t.C:
					case <-req.Context().Done():
						return nil, req.Context().Err()
					}
					return next(req)
				}))
			}
			c, err := client.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var base float64 // concurrency 1's requests/s, from this run
			for _, conc := range []int{1, 16, 64} {
				b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
					rate := benchBulk(b, c, conc)
					b.ReportMetric(rate, "req/s")
					if conc == 1 {
						base = rate
					} else if base > 0 {
						b.ReportMetric(rate/base, "x-vs-c1")
					}
				})
			}
		})
	}
}

// benchBulk runs b.N requests through RunLocalSeq, in runs of at most
// MaxLines, and returns the requests per second.
func benchBulk(b *testing.B, c *client.Client, conc int) float64 {
	dir := b.TempDir()
	params := batchParams(client.ModelGPTOSS120B, "question")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for run, left := 0, b.N; left > 0; run++ {
		n := min(left, MaxLines)
		left -= n
		seq := func(yield func(Request, error) bool) {
			for i := range n {
				if !yield(Request{CustomID: fmt.Sprint(i), Params: params}, nil) {
					return
				}
			}
		}
		out, err := os.Create(filepath.Join(dir, fmt.Sprintf("run%d.jsonl", run)))
		if err != nil {
			b.Fatal(err)
		}
		p, err := RunLocalSeq(context.Background(), c.Chat.Completions, seq, out, RunParams{Concurrency: conc})
		out.Close()
		if err != nil || p.Completed != n {
			b.Fatalf("%+v, %v", p, err)
		}
	}
	return float64(b.N) / time.Since(start).Seconds()
}

// Cancelling the context stops requests that are in flight, even ones the
// server never answers, and returns the context's error; nothing is written.
func TestRunLocalCancelStopsInFlight(t *testing.T) {
	const conc = 2
	started := make(chan struct{}, 8)
	mw := func(req *http.Request, next client.Next) (*http.Response, error) {
		started <- struct{}{}
		return next(req)
	}
	_, c := newFake(t, client.WithMiddleware(mw))
	path := filepath.Join(t.TempDir(), "results.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	input, out := bulkInput(t, 6, nil), bulkOutput(t, path)
	errc := make(chan error, 1)
	go func() {
		// stall-once: no answer until the client leaves.
		p, err := RunLocal(ctx, c.Chat.Completions, strings.NewReader(input), out, RunParams{Concurrency: conc},
			client.WithHeader(cerebrastest.FaultHeader, "stall-once"))
		if err == nil && p.Completed+p.Failed+p.Unfinished != 0 {
			err = fmt.Errorf("progress %+v", p)
		}
		errc <- err
	}()
	for range conc {
		<-started
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := bulkResults(t, path); len(got) != 0 {
		t.Errorf("%d results written, want none", len(got))
	}
}

// failingOutput fails its Write after ok lines.
type failingOutput struct {
	*os.File
	ok int
}

var errDiskFull = errors.New("disk full")

func (f *failingOutput) Write(p []byte) (int, error) {
	if f.ok == 0 {
		return 0, errDiskFull
	}
	f.ok--
	return f.File.Write(p)
}

// An output that cannot be written stops the run with its error.
func TestRunLocalOutputError(t *testing.T) {
	fake, c := newFake(t)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	out := &failingOutput{File: bulkOutput(t, path), ok: 2}
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(bulkInput(t, 20, nil)), out, RunParams{Concurrency: 1})
	if !errors.Is(err, errDiskFull) || p.Completed != 2 {
		t.Fatalf("%+v, %v; want 2 completed and the write error", p, err)
	}
	if got := bulkResults(t, path); len(got) != 2 {
		t.Errorf("%d results, want 2", len(got))
	}
	if sent := len(sentPerID(t, fake)); sent != 3 {
		t.Errorf("%d requests sent, want 3 (the third's result could not be written)", sent)
	}
}

// A rerun decides what is done from each line's custom_id alone: a line
// over the 16 MiB that Results reads by default (the runner
// writes completions up to the 64 MiB response limit), and lines whose
// completion this SDK cannot decode (written by another version, after
// the spec changed, or edited by hand), still count as done, so no
// custom_id is sent or written twice.
func TestRunLocalResumeSkipsLongAndUndecodableLines(t *testing.T) {
	const n = 6
	fake, c, input, path, data := finishedRun(t, n)
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	idOf := func(line string) string {
		var l struct {
			CustomID string `json:"custom_id"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		return l.CustomID
	}
	// Line 1: its completion's content padded past DefaultResultLineBytes.
	pad := strings.Repeat("x", DefaultResultLineBytes+1<<20)
	lines[0] = strings.Replace(lines[0], `"You said: `, `"`+pad+`You said: `, 1)
	if len(lines[0]) <= DefaultResultLineBytes {
		t.Fatalf("line 1 is %d bytes, want it over %d", len(lines[0]), DefaultResultLineBytes)
	}
	// Lines 2 to 4: completions decodeResponse refuses; the custom_id not
	// first, in another case, or escaped, as encoding/json reads them.
	undecodable := []string{
		`{"status":"succeeded","response":{"id":7,"choices":"none"},"custom_id":%q}` + "\n",
		`{"Custom_ID":%q,"status":"succeeded","response":{"choices":[{"message":{"content":["not","text"]}}]}}` + "\n",
		`{"custom\u005fid" : %q , "status":"succeeded","response":{"object":{"nested":["}","{\"custom_id\":\"x\""]}}}` + "\r\n",
	}
	for i, f := range undecodable {
		lines[i+1] = fmt.Sprintf(f, idOf(lines[i+1]))
		if res, perr := parseBatchResult(i+2, []byte(strings.TrimSpace(lines[i+1]))); perr == nil {
			t.Fatalf("line %d decodes (%+v): the test needs one this SDK cannot read", i+2, res)
		}
	}
	// Line 6: torn by a crash mid-write, so its request runs again.
	torn := idOf(lines[n-1])
	lines[n-1] = lines[n-1][:len(lines[n-1])/2]
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}

	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path, os.O_APPEND), RunParams{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Skipped != n-1 || p.Completed != 1 {
		t.Errorf("rerun: skipped %d, completed %d; want %d, 1", p.Skipped, p.Completed, n-1)
	}
	for id, k := range sentPerID(t, fake) {
		if want := 1 + bool2int(id == torn); k != want {
			t.Errorf("%s was sent %d times, want %d", id, k, want)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]int{}
	br := bufio.NewReader(f)
	for {
		l, err := scanLine(br)
		if l.n > 0 {
			if !l.whole || !l.hasID {
				t.Errorf("a line of the output is not a whole result: %+v", l)
			}
			seen[l.id]++
		}
		if err != nil {
			break
		}
	}
	for i := range n {
		if id := fmt.Sprintf("q%03d", i); seen[id] != 1 {
			t.Errorf("%s is in the output %d times, want once", id, seen[id])
		}
	}
}

func bool2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Resume reads a line at constant memory however long it is: a 40 MiB
// line costs it far less than its length.
func TestResumeBulkOutputMemoryIsFlat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	big := `{"custom_id":"big","status":"succeeded","response":{"choices":[{"message":{"content":"` +
		strings.Repeat(`ab\"\\`, 10<<20) + `"}}]}}` + "\n"
	if err := os.WriteFile(path, []byte(big+`{"custom_id":"small","status":"failed","error":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	big = ""
	out := bulkOutput(t, path)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	done, err := resumeBulkOutput(out)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := done["big"]; !ok || len(done) != 2 {
		t.Errorf("done = %v, want big and small", done)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("resume allocated %d bytes for a 40 MiB line, want under 1 MiB", alloc)
	}
}

// scanLine tells a whole result from a torn, damaged or malformed one, as
// encoding/json does (json.Valid, checked for every case), and reads
// custom_id as Results does, from the top level only.
func TestScanLine(t *testing.T) {
	const ok = `{"custom_id":"a","status":"succeeded","response":{"id":"c","created":1,"choices":[{"message":{"content":"hi"}}]}}`
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		name  string
		line  string
		whole bool
		id    string // "" for none
	}{
		{"result", ok, true, "a"},
		{"no LF", `{"custom_id":"a","status":"succeeded"}`, true, "a"},
		{"white space, escapes, CRLF", ` { "custom_id" : "a\"b\u00e9" } ` + "\r", true, "a\"bé"},
		{"a number", `{"custom_id":12}`, true, "12"},
		{"a literal", `{"x":1,"custom_id":true }`, true, "true"},
		{"inner custom_id", `{"response":{"custom_id":"inner"},"custom_id":"outer"}`, true, "outer"},
		{"the last of two", `{"custom_id":"first","custom_id":"last"}`, true, "last"},
		{"the last of two, not text", `{"custom_id":"first","custom_id":{"not":"text"}}`, true, ""},
		{"the last of two, null", `{"custom_id":"first","Custom_Id":null}`, true, ""},
		{"none", `{"response":{"custom_id":"inner"}}`, true, ""},
		{"not text", `{"custom_id":{"not":"text"}}`, true, ""},
		{"exotic values", `{"custom_id":"e","n":[-0,0.5e-10,1E+2,-12.75E-0,123456789012345678901234567890],"l":[true,false,null],"o":{},"a":[],"s":"\\\/\b\f\n\r\t\ud83d\ude00\ud800 ` + "\xff\u2028" + `"}`, true, "e"},
		{"escaped, folded key", `{"CUSTOM\u005fId":"k","\u017ftatus":"x"}`, true, "k"},
		{"10,000 levels", `{"custom_id":"d","x":` + nest(9999) + `}`, true, "d"},

		{"torn in an array", `{"custom_id":"a","response":{"choices":[`, false, "a"},
		{"torn in a string", `{"custom_id":"a","response":"}`, false, "a"},
		{"missing closing brace", ok[:len(ok)-1], false, "a"},
		{"one brace too many", `{"custom_id":"a"}}`, false, "a"},
		{"data after", `{"custom_id":"a"} x`, false, "a"},
		{"two objects", ok + ok, false, "a"},
		{"an array", `["custom_id","a"]`, false, ""},
		{"garbage", `garbage`, false, ""},
		{"blank", "", false, ""},
		{"a NUL block inside", ok[:30] + strings.Repeat("\x00", 40) + ok[70:], false, "a"},
		{"a NUL block for a value", `{"custom_id":"a","x":` + strings.Repeat("\x00", 8) + `}`, false, "a"},
		{"NULs first", strings.Repeat("\x00", 8) + ok, false, ""},
		{"NULs after", ok + "\x00\x00", false, "a"},
		{"a control byte in a string", strings.Replace(ok, `"hi"`, "\"h\x01i\"", 1), false, "a"},
		{"a tab in a string", strings.Replace(ok, `"hi"`, "\"h\ti\"", 1), false, "a"},
		{"a trailing comma in an object", strings.Replace(ok, `"hi"}`, `"hi",}`, 1), false, "a"},
		{"a trailing comma in an array", strings.Replace(ok, `}]`, `},]`, 1), false, "a"},
		{"a trailing comma at the top", ok[:len(ok)-1] + ",}", false, "a"},
		{"a comma missing", `{"custom_id":"a" "status":"x"}`, false, "a"},
		{"a colon missing", `{"custom_id" "a"}`, false, ""},
		{"a value missing", `{"custom_id":"a","status":}`, false, "a"},
		{"a key not a string", `{"custom_id":"a",status:"x"}`, false, "a"},
		{"an invalid escape", strings.Replace(ok, `"hi"`, `"h\qi"`, 1), false, "a"},
		{"a short \\u escape", strings.Replace(ok, `"hi"`, `"h\u12gi"`, 1), false, "a"},
		{"a leading zero", strings.Replace(ok, `"created":1`, `"created":01`, 1), false, "a"},
		{"a bare dot", strings.Replace(ok, `"created":1`, `"created":1.`, 1), false, "a"},
		{"an empty exponent", strings.Replace(ok, `"created":1`, `"created":1e+`, 1), false, "a"},
		{"a lone minus", strings.Replace(ok, `"created":1`, `"created":-`, 1), false, "a"},
		{"a plus", strings.Replace(ok, `"created":1`, `"created":+1`, 1), false, "a"},
		{"a cut literal", `{"custom_id":"a","x":tru}`, false, "a"},
		{"a capital literal", `{"custom_id":"a","x":True}`, false, "a"},
		{"a mismatched bracket", `{"custom_id":"a","x":[}]}`, false, "a"},
		{"10,001 levels", `{"custom_id":"d","x":` + nest(10000) + `}`, false, "d"},
		{"a BOM", "\ufeff" + ok, false, ""},
	} {
		if valid := json.Valid([]byte(tc.line)) && strings.HasPrefix(strings.TrimLeft(tc.line, " \t\r"), "{"); valid != tc.whole {
			t.Fatalf("%s: the test says whole %v, but json.Valid says %v", tc.name, tc.whole, valid)
		}
		l, err := scanLine(bufio.NewReaderSize(strings.NewReader(tc.line+"\n{}\n"), 16))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if l.whole != tc.whole || (tc.whole && (l.hasID != (tc.id != "") || l.id != tc.id)) || l.n != int64(len(tc.line)+1) {
			t.Errorf("%s: whole %v, id %q (%v), %d bytes; want %v, %q, %d", tc.name, l.whole, l.id, l.hasID, l.n, tc.whole, tc.id, len(tc.line)+1)
		}
	}
}

// A line damaged by a crash (a zero-filled block, a stray control byte, a
// lost brace …) is not done: its request runs once more, its result is
// appended, and the damaged line, kept, is reported by Results without
// hiding the lines after it. A third run finds everything done.
func TestRunLocalResumeRerunsDamagedLines(t *testing.T) {
	const n = 4
	for _, tc := range []struct {
		name   string
		damage func(line string) string // line without its LF
	}{
		{"a NUL block across strings", func(l string) string { return l[:20] + strings.Repeat("\x00", 64) + l[84:] }},
		{"a NUL block between members", func(l string) string {
			m := `"model":"gpt-oss-120b",`
			return strings.Replace(l, m, strings.Repeat("\x00", len(m)), 1)
		}},
		{"a control byte in a string", func(l string) string { return strings.Replace(l, "You said", "You\x07said", 1) }},
		{"a trailing comma", func(l string) string { return l[:len(l)-1] + ",}" }},
		{"a missing closing brace", func(l string) string { return l[:len(l)-1] }},
		{"an invalid escape", func(l string) string { return strings.Replace(l, "You said", `You\said`, 1) }},
		{"a bad number", func(l string) string { return strings.Replace(l, `"created":`, `"created":0`, 1) }},
		{"two objects", func(l string) string { return l + l }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, input, path, data := finishedRun(t, n)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			var second struct {
				CustomID string `json:"custom_id"`
			}
			if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
				t.Fatal(err)
			}
			damaged := tc.damage(lines[1])
			if json.Valid([]byte(damaged)) || strings.Contains(damaged, "\n") {
				t.Fatalf("the damaged line is one line of valid JSON: %q", damaged)
			}
			lines[1] = damaged
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			for run, want := range []Progress{{Total: n, Skipped: n - 1, Completed: 1}, {Total: n, Skipped: n}} {
				p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path, os.O_APPEND), RunParams{Concurrency: 1})
				if err != nil {
					t.Fatal(err)
				}
				if got := (Progress{Total: p.Total, Skipped: p.Skipped, Completed: p.Completed, Failed: p.Failed, Unfinished: p.Unfinished}); got != want {
					t.Errorf("run %d: %+v, want %+v", run+2, got, want)
				}
			}
			for id, k := range sentPerID(t, fake) {
				if want := 1 + bool2int(id == second.CustomID); k != want {
					t.Errorf("%s was sent %d times, want %d", id, k, want)
				}
			}

			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []string
			for res, err := range Results(f) {
				var le *LineError
				switch {
				case errors.As(err, &le) && errors.Is(err, ErrMalformedLine):
					got = append(got, fmt.Sprintf("damaged@%d", le.Line))
				case err != nil:
					t.Fatal(err)
				case res.Status != StatusSucceeded:
					t.Errorf("line %d: %s", res.Line, res.Raw)
				default:
					got = append(got, fmt.Sprintf("%s@%d", res.CustomID, res.Line))
				}
			}
			if want := fmt.Sprintf("[q000@1 damaged@2 q002@3 q003@4 %s@5]", second.CustomID); fmt.Sprint(got) != want {
				t.Errorf("Results: %v, want %s", got, want)
			}
		})
	}
}

// The lines Writer and RunLocal write match the spec's
// BatchInputLine and BatchResultLine, succeeded and failed alike.
func TestBatchLinesMatchTheSpec(t *testing.T) {
	doc, err := spec.Load("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	check := func(schema, data string) {
		t.Helper()
		n := 0
		for line := range strings.Lines(data) {
			var v any
			err := json.Unmarshal([]byte(line), &v)
			if err == nil {
				err = doc.Components.Schemas[schema].Value.VisitJSON(v)
			}
			if err != nil {
				t.Errorf("a line is not a %s: %v\n%s", schema, err, line)
			}
			n++
		}
		if n == 0 {
			t.Errorf("no %s to check", schema)
		}
	}
	_, c := newFake(t)
	input := bulkInput(t, 4, func(i int, p *client.ChatCompletionNewParams) {
		if i%2 == 0 {
			p.Temperature = client.Float(5) // refused by the API: a failed line
		}
	})
	check("BatchInputLine", bulkInput(t, 4, nil))
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(input), bulkOutput(t, path), RunParams{})
	if err != nil || p.Completed != 2 || p.Failed != 2 {
		t.Fatalf("%+v, %v; want 2 completed, 2 failed", p, err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check("BatchResultLine", string(out))
}
