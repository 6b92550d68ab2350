package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/gen"
)

// batchInput writes n requests, custom_ids q0…, as input lines of the
// spec's shape, and, if bad, a last one for a model the API does not serve.
// (Package batchfile's Writer, which client's own tests cannot import,
// checks the limits too.)
func batchInput(t *testing.T, n int, bad bool) string {
	t.Helper()
	var buf bytes.Buffer
	for i := range n {
		params := ChatCompletionNewParams{Model: ModelGPTOSS120B, Messages: []ChatMessage{UserMessage(fmt.Sprintf("question %d", i))}}
		line, err := json.Marshal(gen.BatchInputLine{CustomID: fmt.Sprintf("q%d", i), Method: gen.BatchInputLineMethodPOST,
			URL: BatchEndpointChatCompletions, Body: &params})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(line, '\n'))
	}
	if bad {
		buf.WriteString(`{"custom_id":"bad","method":"POST","url":"/v1/chat/completions","body":{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}}` + "\n")
	}
	return buf.String()
}

func newBatch(t *testing.T, c *Client, input string) *Batch {
	t.Helper()
	f := uploadJSONL(t, c, "requests.jsonl", input)
	b, err := c.Batches.New(context.Background(), BatchNewParams{InputFileID: f.ID, Endpoint: BatchEndpointChatCompletions,
		CompletionWindow: BatchCompletionWindowHours24, Metadata: map[string]any{"custom_tags": []any{"q3"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batchResult is a result line of the fake's output, in Cerebras' shape.
type batchResult struct {
	CustomID   string          `json:"custom_id"`
	Status     string          `json:"status"`
	Completion *ChatCompletion `json:"response"`
	Error      *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// readResults reads a result file through Files.Content, by custom_id,
// failing on an unreadable line and reporting a custom_id seen twice.
func readResults(t *testing.T, c *Client, fileID string) map[string]batchResult {
	t.Helper()
	body, err := c.Files.Content(context.Background(), fileID)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	out := map[string]batchResult{}
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var res batchResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil || res.CustomID == "" {
			t.Fatalf("result line %q: %v", sc.Bytes(), err)
		}
		if _, dup := out[res.CustomID]; dup {
			t.Errorf("custom_id %s appears twice", res.CustomID)
		}
		out[res.CustomID] = res
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type progress struct {
	status BatchStatus
	counts BatchRequestCounts
}

func TestBatchesRunToCompletion(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()
	b := newBatch(t, c, batchInput(t, 10, true))
	if b.Status != BatchStatusValidating || b.Object != "batch" || b.RequestCounts.Total != 11 || b.Endpoint != "/v1/chat/completions" {
		t.Fatalf("new batch: %+v", b)
	}
	var seen []progress
	done, err := c.Batches.Wait(ctx, b.ID, BatchWaitParams{OnProgress: func(b *Batch) {
		seen = append(seen, progress{b.Status, b.RequestCounts})
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []progress{
		{BatchStatusInProgress, BatchRequestCounts{Total: 11}},
		{BatchStatusFinalizing, BatchRequestCounts{Total: 11, Completed: 10, Failed: 1}},
		{BatchStatusCompleted, BatchRequestCounts{Total: 11, Completed: 10, Failed: 1}},
	}
	if !slices.Equal(seen, want) {
		t.Errorf("progress %+v\nwant     %+v", seen, want)
	}
	if done.Status != BatchStatusCompleted || done.OutputFileID == "" || done.ErrorFileID == "" || done.CompletedAt == 0 {
		t.Fatalf("final batch: %+v", done)
	}
	if n := countOps(fake, "GET", "/v1/batches/"+b.ID); n != 3 {
		t.Errorf("Wait polled %d times, want 3", n)
	}

	out := readResults(t, c, done.OutputFileID)
	if len(out) != 10 {
		t.Errorf("output has %d results, want 10", len(out))
	}
	for i := range 10 {
		id := fmt.Sprintf("q%d", i)
		res, ok := out[id]
		if !ok {
			t.Errorf("no result for %s", id)
			continue
		}
		if res.Status != "succeeded" || res.Completion == nil {
			t.Errorf("%s: %+v", id, res)
			continue
		}
		if got, want := res.Completion.Choices[0].Message.Content, fmt.Sprintf("You said: question %d", i); got != want {
			t.Errorf("%s answered %q, want %q", id, got, want)
		}
	}
	errs := readResults(t, c, done.ErrorFileID)
	if res, ok := errs["bad"]; len(errs) != 1 || !ok || res.Status != "failed" || res.Error == nil || res.Error.Code != "model_not_found" {
		t.Errorf("error file: %+v", errs)
	}
}

func TestBatchesWaitBacksOff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params BatchWaitParams
		want   []time.Duration
	}{
		{"defaults", BatchWaitParams{}, []time.Duration{time.Second, 2 * time.Second}},
		{"capped", BatchWaitParams{Interval: time.Millisecond, MaxInterval: 1500 * time.Microsecond}, []time.Duration{time.Millisecond, 1500 * time.Microsecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t)
			var delays []time.Duration
			c.sleep = func(ctx context.Context, d time.Duration) error {
				delays = append(delays, d)
				return ctx.Err()
			}
			b := newBatch(t, c, batchInput(t, 10, false))
			done, err := c.Batches.Wait(context.Background(), b.ID, tc.params)
			if err != nil || done.Status != BatchStatusCompleted {
				t.Fatalf("Wait: %+v, %v", done, err)
			}
			if !slices.Equal(delays, tc.want) {
				t.Errorf("delays %v, want %v", delays, tc.want)
			}
		})
	}
}

func TestBatchesWaitHonoursContext(t *testing.T) {
	t.Run("cancelled while waiting", func(t *testing.T) {
		_, c := newFake(t)
		c.sleep = sleep // the real one: an hour's wait that only the cancel can end
		b := newBatch(t, c, batchInput(t, 10, false))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		last, err := c.Batches.Wait(ctx, b.ID, BatchWaitParams{Interval: time.Hour, OnProgress: func(*Batch) { cancel() }})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if last == nil || last.Status != BatchStatusInProgress {
			t.Errorf("last batch seen: %+v", last)
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		fake, c := newFake(t)
		b := newBatch(t, c, batchInput(t, 10, false))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		last, err := c.Batches.Wait(ctx, b.ID, BatchWaitParams{})
		if !errors.Is(err, context.Canceled) || last != nil {
			t.Fatalf("Wait = %+v, %v; want nil, context.Canceled", last, err)
		}
		if n := countOps(fake, "GET", "/v1/batches/"+b.ID); n != 0 {
			t.Errorf("%d polls sent with a cancelled context", n)
		}
	})
}

func TestBatchesCancel(t *testing.T) {
	_, c := newFake(t)
	ctx := context.Background()
	b := newBatch(t, c, batchInput(t, 10, false))
	if got, err := c.Batches.Get(ctx, b.ID); err != nil || got.Status != BatchStatusInProgress {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	cancelling, err := c.Batches.Cancel(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cancelling.Status != BatchStatusCancelling || cancelling.RequestCounts != (BatchRequestCounts{Total: 10, Completed: 5}) {
		t.Fatalf("Cancel: %+v", cancelling)
	}
	done, err := c.Batches.Wait(ctx, b.ID, BatchWaitParams{})
	if err != nil || done.Status != BatchStatusCancelled || done.CancelledAt == 0 || done.ErrorFileID != "" {
		t.Fatalf("Wait: %+v, %v", done, err)
	}
	out := readResults(t, c, done.OutputFileID)
	for i := range 10 {
		if _, ok := out[fmt.Sprintf("q%d", i)]; ok != (i < 5) {
			t.Errorf("q%d in the partial results: %v", i, ok)
		}
	}
}

func TestBatchesFailOnInvalidInput(t *testing.T) {
	_, c := newFake(t)
	b := newBatch(t, c, batchJSONL+batchJSONL) // every custom_id twice
	done, err := c.Batches.Wait(context.Background(), b.ID, BatchWaitParams{})
	if err != nil || done.Status != BatchStatusFailed || done.OutputFileID != "" {
		t.Fatalf("Wait: %+v, %v", done, err)
	}
	errs, ok := done.Errors.(map[string]any)
	if !ok || fmt.Sprint(errs["data"]) != `[map[code:invalid_input_file message:Line 3 repeats the custom_id "r1".]]` {
		t.Errorf("errors: %#v", done.Errors)
	}
}

func TestBatchesListIsLazy(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, newBatch(t, c, batchJSONL).ID)
	}
	slices.Reverse(ids) // newest first
	var got []string
	for b, err := range c.Batches.List(ctx, BatchListParams{Limit: Int(2)}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.ID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("List = %v, want %v", got, ids)
	}
	if n := countOps(fake, "GET", "/v1/batches"); n != 3 {
		t.Errorf("%d pages fetched, want 3", n)
	}
	got = got[:0]
	for b, err := range c.Batches.List(ctx, BatchListParams{Limit: Int(2)}) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, b.ID); len(got) == 3 {
			break
		}
	}
	if n := countOps(fake, "GET", "/v1/batches"); n != 5 {
		t.Errorf("%d pages fetched for 3 batches, want 2", n-3)
	}
	page, err := c.Batches.ListPage(ctx, BatchListParams{Limit: Int(2), After: String(ids[3])})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != ids[4] || page.HasMore {
		t.Errorf("last page: %+v, %v", page, err)
	}
}

func TestBatchesRefuseBadIDs(t *testing.T) {
	_, c := newFake(t)
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.Batches.Get(context.Background(), id); !errors.As(err, new(*ParamError)) {
			t.Errorf("Get(%q): %v, want a *ParamError", id, err)
		}
		if _, err := c.Batches.Cancel(context.Background(), id); !errors.As(err, new(*ParamError)) {
			t.Errorf("Cancel(%q): %v, want a *ParamError", id, err)
		}
	}
	_, err := c.Batches.Get(context.Background(), "batch_nope")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown batch: %v, want ErrNotFound", err)
	}
}

// The API documents errors as an object, and one of its examples sends a
// string: both decode, as does a status the SDK does not know, which Wait
// keeps polling through.
func TestBatchesDecodeTolerantly(t *testing.T) {
	fake, c := newFake(t)
	fake.Enqueue(
		cerebrastest.Response{Body: `{"id":"batch_1","object":"batch","status":"paused_by_operator","errors":null}`},
		cerebrastest.Response{Body: `{"id":"batch_1","object":"batch","status":"failed","errors":"input file not found","request_counts":{"total":3,"completed":0,"failed":3}}`},
	)
	var statuses []BatchStatus
	b, err := c.Batches.Wait(context.Background(), "batch_1", BatchWaitParams{OnProgress: func(b *Batch) { statuses = append(statuses, b.Status) }})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != BatchStatusFailed || b.Errors != "input file not found" || b.RequestCounts.Failed != 3 {
		t.Errorf("batch: %+v", b)
	}
	if want := []BatchStatus{"paused_by_operator", BatchStatusFailed}; !slices.Equal(statuses, want) {
		t.Errorf("progress %v, want %v", statuses, want)
	}
}

// A request the API would refuse reaches it anyway and its error comes back
// intact: the client does not copy the server's validation.
func TestBatchesNewErrorsComeFromTheAPI(t *testing.T) {
	_, c := newFake(t)
	_, err := c.Batches.New(context.Background(), BatchNewParams{InputFileID: "file-none", Endpoint: BatchEndpointChatCompletions, CompletionWindow: "1h"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 {
		t.Fatalf("bad completion_window: %v, want a 422 *APIError", err)
	}
	_, err = c.Batches.New(context.Background(), BatchNewParams{InputFileID: "file-none", Endpoint: BatchEndpointChatCompletions, CompletionWindow: BatchCompletionWindowHours24})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Param != "input_file_id" {
		t.Fatalf("unknown input file: %v, want a 404 *APIError on input_file_id", err)
	}
}

// Wait on a fake whose batch outlives its 24-hour window: Wait's delays
// pass on the fake's clock, the batch stays in_progress (its counts rising)
// until the window closes, and Wait returns it expired, with no error. The
// requests run by then have results; the others are in the error file.
func TestBatchesWaitReturnsExpired(t *testing.T) {
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	fake := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithClock(clk),
		cerebrastest.WithBatchRunTime(48*time.Hour)) // half the batch runs in its window
	c, err := New(WithAPIKey(testKey), WithBaseURL(fake.URL), WithoutEnvironment(), WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	c.sleep = func(ctx context.Context, d time.Duration) error {
		clk.Advance(d)
		return ctx.Err()
	}
	b := newBatch(t, c, batchInput(t, 10, false))
	var seen []progress
	done, err := c.Batches.Wait(context.Background(), b.ID, BatchWaitParams{Interval: time.Hour, MaxInterval: 8 * time.Hour,
		OnProgress: func(b *Batch) { seen = append(seen, progress{b.Status, b.RequestCounts}) }})
	if err != nil {
		t.Fatal(err)
	}
	// Polls at 0, 1, 3, 7, 15, 23 and 31 hours; 10 requests take 48 hours.
	want := []progress{
		{BatchStatusInProgress, BatchRequestCounts{Total: 10}},
		{BatchStatusInProgress, BatchRequestCounts{Total: 10, Completed: 1}},
		{BatchStatusInProgress, BatchRequestCounts{Total: 10, Completed: 3}},
		{BatchStatusInProgress, BatchRequestCounts{Total: 10, Completed: 4}},
		{BatchStatusExpired, BatchRequestCounts{Total: 10, Completed: 5, Failed: 5}},
	}
	if !slices.Equal(seen, want) {
		t.Errorf("progress %+v\nwant     %+v", seen, want)
	}
	if n := countOps(fake, "GET", "/v1/batches/"+b.ID); n != 7 {
		t.Errorf("Wait polled %d times, want 7", n)
	}
	if done.Status != BatchStatusExpired || done.ExpiredAt != done.ExpiresAt || done.ExpiresAt != done.CreatedAt+24*3600 {
		t.Fatalf("final batch: %+v", done)
	}
	out, errs := readResults(t, c, done.OutputFileID), readResults(t, c, done.ErrorFileID)
	for i := range 10 {
		id := fmt.Sprintf("q%d", i)
		if i < 5 {
			if res, ok := out[id]; !ok || res.Status != "succeeded" || res.Completion == nil {
				t.Errorf("%s: %+v, want a result", id, res)
			}
			continue
		}
		if res, ok := errs[id]; !ok || res.Status != "expired" || res.Error == nil || res.Error.Code != "batch_expired" {
			t.Errorf("%s: %+v, want an expired line", id, res)
		}
	}
	if len(out)+len(errs) != 10 {
		t.Errorf("%d results and %d errors for 10 requests", len(out), len(errs))
	}
}
