package cerebrastest_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// A batch moves one step per retrieval, and its output file holds one line
// per request in Cerebras' shape: custom_id, status, response.
func TestBatchLifecycleAndOutputShape(t *testing.T) {
	srv, c := setup(t)
	b := createBatch(t, c, `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gemma-4-31b","messages":[{"role":"user","content":"one"}]}}
{"custom_id":"b","method":"GET","url":"/v1/models","body":{}}
`)
	var got []client.BatchStatus
	for range 5 {
		b = getBatch(t, c, b.ID)
		got = append(got, b.Status)
	}
	want := []client.BatchStatus{client.BatchStatusInProgress, client.BatchStatusFinalizing, client.BatchStatusCompleted,
		client.BatchStatusCompleted, client.BatchStatusCompleted}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if all := srv.Batches(); len(all) != 1 || all[0].ID != b.ID || all[0].Status != client.BatchStatusCompleted {
		t.Errorf("Server.Batches() = %+v", all)
	}

	out := content(t, c, b.OutputFileID)
	var line struct {
		CustomID string          `json:"custom_id"`
		Status   string          `json:"status"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal([]byte(out), &line); err != nil || line.CustomID != "a" || line.Status != "succeeded" ||
		!strings.Contains(string(line.Response), `"content":"You said: one"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("output file:\n%s", out)
	}
	const wantErr = `{"custom_id":"b","status":"failed","error":{"code":"invalid_request","message":"Unsupported request GET /v1/models: a batch runs POST /v1/chat/completions."}}` + "\n"
	if got := content(t, c, b.ErrorFileID); got != wantErr {
		t.Errorf("error file:\n%s\nwant\n%s", got, wantErr)
	}
}

func content(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	r, err := c.Files.Content(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clockStart is where the batch tests' stopped clocks start.
var clockStart = time.Unix(1_700_000_000, 0)

// fourRequests is an input file of four requests, a to d.
func fourRequests() string {
	var b strings.Builder
	for _, id := range []string{"a", "b", "c", "d"} {
		b.WriteString(`{"custom_id":"` + id + `","method":"POST","url":"/v1/chat/completions","body":{"model":"gemma-4-31b","messages":[{"role":"user","content":"` + id + `"}]}}` + "\n")
	}
	return b.String()
}

func createBatch(t *testing.T, c *client.Client, input string) *client.Batch {
	t.Helper()
	ctx := context.Background()
	f, err := c.Files.New(ctx, client.FileNewParams{File: strings.NewReader(input), Filename: "in.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Batches.New(ctx, client.BatchNewParams{InputFileID: f.ID, Endpoint: client.BatchEndpointChatCompletions,
		CompletionWindow: client.BatchCompletionWindowHours24})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func getBatch(t *testing.T, c *client.Client, id string) *client.Batch {
	t.Helper()
	b, err := c.Batches.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A batch's timestamps are the server's clock, and its window is 24 hours
// from its creation; the default lifecycle does not wait for the clock.
func TestBatchTimesFollowTheClock(t *testing.T) {
	clk := cerebrastest.NewClock(clockStart)
	_, c := setup(t, cerebrastest.WithClock(clk))
	b := createBatch(t, c, fourRequests())
	t0 := clockStart.Unix()
	if b.CreatedAt != t0 || b.ExpiresAt != t0+24*3600 {
		t.Fatalf("created_at %d, expires_at %d; want %d and %d", b.CreatedAt, b.ExpiresAt, t0, t0+24*3600)
	}
	var at []int64
	for range 3 {
		clk.Advance(time.Minute)
		b = getBatch(t, c, b.ID)
		at = append(at, b.InProgressAt, b.FinalizingAt, b.CompletedAt)
	}
	want := []int64{t0 + 60, 0, 0, t0 + 60, t0 + 120, 0, t0 + 60, t0 + 120, t0 + 180}
	if b.Status != client.BatchStatusCompleted || !slices.Equal(at, want) {
		t.Errorf("status %s; in_progress_at, finalizing_at, completed_at after each retrieval: %v, want %v", b.Status, at, want)
	}
	out, err := c.Files.Get(context.Background(), b.OutputFileID)
	if err != nil || out.CreatedAt != t0+180 || out.ExpiresAt != t0+180+7*24*3600 {
		t.Errorf("output file: %+v, %v", out, err)
	}
	clk.Advance(25 * time.Hour) // a batch that has ended does not expire
	if b = getBatch(t, c, b.ID); b.Status != client.BatchStatusCompleted || b.ExpiredAt != 0 {
		t.Errorf("a completed batch after its window: %s, expired_at %d", b.Status, b.ExpiredAt)
	}
}

// expiredLines is the error file of a batch that expired before running
// the requests ids.
func expiredLines(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(`{"custom_id":"` + id + `","status":"expired","error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}` + "\n")
	}
	return b.String()
}

// A batch that has not ended when the clock passes expires_at is expired,
// wherever in its lifecycle it is; the requests it did not run are
// reported in the error file.
func TestBatchExpires(t *testing.T) {
	for _, tc := range []struct {
		name     string
		gets     int // retrievals before the clock jumps
		runTime  time.Duration
		ran      []string // custom_ids answered before the window closed
		listOnly bool     // the expiry is seen by List, not a retrieval
	}{
		{name: "validating", gets: 0},
		{name: "validating, listed", gets: 0, listOnly: true},
		{name: "in progress", gets: 1},
		{name: "in progress for a long run", gets: 4, runTime: 48 * time.Hour, ran: []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := cerebrastest.NewClock(clockStart)
			srv, c := setup(t, cerebrastest.WithClock(clk), cerebrastest.WithBatchRunTime(tc.runTime))
			b := createBatch(t, c, fourRequests())
			for range tc.gets {
				if b = getBatch(t, c, b.ID); b.Status != client.BatchStatusInProgress || b.RequestCounts.Completed != 0 {
					t.Fatalf("before the clock moves: %s, %+v", b.Status, b.RequestCounts)
				}
			}
			clk.Advance(25 * time.Hour)
			if tc.listOnly {
				page, err := c.Batches.ListPage(context.Background(), client.BatchListParams{})
				if err != nil || len(page.Data) != 1 {
					t.Fatalf("ListPage: %+v, %v", page, err)
				}
				b = &page.Data[0]
			} else {
				b = getBatch(t, c, b.ID)
			}
			want := client.BatchRequestCounts{Total: 4, Completed: len(tc.ran), Failed: 4 - len(tc.ran)}
			if b.Status != client.BatchStatusExpired || b.ExpiredAt != b.ExpiresAt || b.ExpiresAt != clockStart.Unix()+24*3600 ||
				b.RequestCounts != want || b.CompletedAt != 0 || b.FinalizingAt != 0 {
				t.Fatalf("after the window: %+v", b)
			}
			if all := srv.Batches(); all[0].Status != client.BatchStatusExpired {
				t.Errorf("Server.Batches: %s", all[0].Status)
			}
			if got, want := content(t, c, b.ErrorFileID), expiredLines([]string{"a", "b", "c", "d"}[len(tc.ran):]...); got != want {
				t.Errorf("error file:\n%s\nwant\n%s", got, want)
			}
			if len(tc.ran) == 0 {
				if b.OutputFileID != "" {
					t.Errorf("an output file with no request run: %s", content(t, c, b.OutputFileID))
				}
				return
			}
			var got []string
			for l := range strings.Lines(content(t, c, b.OutputFileID)) {
				var res struct {
					CustomID string `json:"custom_id"`
					Status   string `json:"status"`
				}
				if err := json.Unmarshal([]byte(l), &res); err != nil || res.Status != "succeeded" {
					t.Errorf("output line %q: %v", l, err)
				}
				got = append(got, res.CustomID)
			}
			if !slices.Equal(got, tc.ran) {
				t.Errorf("output file answers %v, want %v", got, tc.ran)
			}
		})
	}
}

// With WithBatchRunTime a batch runs as its clock moves: its request counts
// rise with the time elapsed, and it finalizes once the run time is over;
// a cancel keeps the requests run so far.
func TestBatchRunTime(t *testing.T) {
	clk := cerebrastest.NewClock(clockStart)
	_, c := setup(t, cerebrastest.WithClock(clk), cerebrastest.WithBatchRunTime(4*time.Hour))
	b := createBatch(t, c, fourRequests())
	var got []client.BatchRequestCounts
	var statuses []client.BatchStatus
	for range 7 {
		b = getBatch(t, c, b.ID)
		got, statuses = append(got, b.RequestCounts), append(statuses, b.Status)
		clk.Advance(time.Hour)
	}
	in, fin, done := client.BatchStatusInProgress, client.BatchStatusFinalizing, client.BatchStatusCompleted
	if want := []client.BatchStatus{in, in, in, in, fin, done, done}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	var completed []int
	for _, n := range got {
		completed = append(completed, n.Completed)
	}
	if want := []int{0, 1, 2, 3, 4, 4, 4}; !slices.Equal(completed, want) {
		t.Errorf("completed counts %v, want %v", completed, want)
	}

	b = createBatch(t, c, fourRequests())
	getBatch(t, c, b.ID)
	clk.Advance(3 * time.Hour)
	b, err := c.Batches.Cancel(context.Background(), b.ID)
	if err != nil || b.Status != client.BatchStatusCancelling || b.RequestCounts.Completed != 3 {
		t.Fatalf("Cancel: %+v, %v", b, err)
	}
	if b = getBatch(t, c, b.ID); b.Status != client.BatchStatusCancelled || strings.Count(content(t, c, b.OutputFileID), "\n") != 3 {
		t.Errorf("cancelled: %+v", b)
	}
}
