package cerebrastest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// batchWindow is how long a batch may run when its completion_window does
// not parse: the only documented window, 24 hours.
const batchWindow = 24 * time.Hour

// storedBatch is one batch of the in-memory store. Its steps are taken
// when it is retrieved (GET /v1/batches/{id}), one per retrieval:
// validating → in_progress → finalizing → completed, or from validating to
// failed when its input file is not a batch; a cancel makes it cancelling,
// and the next retrieval cancelled. Its time is the server's Clock: a
// batch not ended when the clock passes expires_at is expired, whether it
// is retrieved, listed or read with Server.Batches. With WithBatchRunTime
// the in_progress step also waits for the run time to pass on the clock.
type storedBatch struct {
	meta  gen.Batch
	lines [][]byte // the input file's lines
	// ran is how many of lines have been answered, into out and errs: the
	// output and error files' content, stored as files when the batch ends.
	ran       int
	out, errs []byte
	started   time.Time // when it went in_progress, on the server's clock
}

// batches is the fake's batch store, newest last; Server.mu guards it.
type batches struct {
	list []*storedBatch
	seq  int64
}

// WithBatchRunTime makes a batch's requests take d to run on the server's
// clock (see Clock), instead of all running in the retrieval that ends
// in_progress. A batch then stays in_progress, its request counts rising
// with the time elapsed, until d has passed; a window that closes first
// expires it with the requests run by then. With a stopped clock a test
// holds a batch in_progress as long as it likes:
//
//	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
//	srv := cerebrastest.NewServer(t, cerebrastest.WithClock(clk), cerebrastest.WithBatchRunTime(48*time.Hour))
//	… create a batch; retrieve it: in_progress, and again: still in_progress
//	clk.Advance(25 * time.Hour) // the next retrieval: expired
//
// d <= 0 keeps the default, one step per retrieval whatever the clock.
func WithBatchRunTime(d time.Duration) Option {
	return func(s *Server) { s.batchRunTime = max(d, 0) }
}

// Batches returns the batches the server holds, newest first, as List
// pages them (a batch whose window has closed on the server's clock is
// expired).
func (s *Server) Batches() []gen.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]gen.Batch, 0, len(s.batches.list))
	for i := len(s.batches.list) - 1; i >= 0; i-- {
		b := s.batches.list[i]
		s.advance(b, false)
		out = append(out, b.meta)
	}
	return out
}

// createBatch starts a batch from an uploaded file; it is validating.
func (x *exchange) createBatch() {
	var req gen.BatchNewParams
	if err := json.Unmarshal(x.body, &req); err != nil { // the spec validation makes this unlikely
		x.fail(http.StatusBadRequest, "Invalid request body: "+err.Error(), "invalid_request_error", "", "invalid_body")
		return
	}
	window, err := time.ParseDuration(string(req.CompletionWindow))
	if err != nil || window <= 0 { // the spec allows only "24h"; one given with WithSpecFile may allow more
		window = batchWindow
	}
	x.s.mu.Lock()
	x.s.files.prune(x.s.clock.Now().Unix())
	i := x.s.files.find(req.InputFileID)
	if i < 0 {
		x.s.mu.Unlock()
		x.fileNotFound(req.InputFileID, "input_file_id")
		return
	}
	content := x.s.files.list[i].content
	var lines [][]byte
	for l := range bytes.Lines(content) {
		if l = bytes.TrimRight(l, "\n"); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	x.s.batches.seq++
	now := x.s.clock.Now().Unix()
	b := &storedBatch{lines: lines, meta: gen.Batch{
		ID: fmt.Sprintf("batch_%06d", x.s.batches.seq), Object: "batch", Endpoint: string(req.Endpoint),
		InputFileID: req.InputFileID, CompletionWindow: string(req.CompletionWindow),
		Status: gen.BatchStatusValidating, CreatedAt: now, ExpiresAt: now + int64(window/time.Second),
		RequestCounts: gen.BatchRequestCounts{Total: len(lines)}, Metadata: req.Metadata,
	}}
	x.s.batches.list = append(x.s.batches.list, b)
	meta := b.meta
	x.s.mu.Unlock()
	x.writeBatch(meta)
}

// listBatches answers one page, newest first, after the batch the after
// parameter names.
func (x *exchange) listBatches() {
	data, more, ok := page(x, x.s.Batches(), func(b gen.Batch) string { return b.ID }, x.batchNotFound)
	if !ok {
		return
	}
	b, _ := json.Marshal(gen.BatchList{Object: "list", Data: data, HasMore: more})
	x.rateLimitHeaders()
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "BatchList")
}

// retrieveBatch moves the batch one step on, then answers it.
func (x *exchange) retrieveBatch() {
	x.s.mu.Lock()
	b := x.s.batches.find(x.params["batch_id"])
	if b == nil {
		x.s.mu.Unlock()
		x.batchNotFound(x.params["batch_id"], "batch_id")
		return
	}
	x.s.advance(b, true)
	meta := b.meta
	x.s.mu.Unlock()
	x.writeBatch(meta)
}

// cancelBatch makes a batch that has not ended cancelling; the requests
// run so far (none while validating; while in progress, those the run time
// has allowed, or without WithBatchRunTime the first half; all once
// finalizing) are its partial results.
func (x *exchange) cancelBatch() {
	x.s.mu.Lock()
	b := x.s.batches.find(x.params["batch_id"])
	if b == nil {
		x.s.mu.Unlock()
		x.batchNotFound(x.params["batch_id"], "batch_id")
		return
	}
	x.s.advance(b, false)
	m := &b.meta
	if m.Status == gen.BatchStatusInProgress {
		n := len(b.lines) / 2
		if x.s.batchRunTime > 0 {
			n = x.s.doneBy(b, x.s.clock.Now())
		}
		x.s.run(b, n)
	}
	switch m.Status {
	case gen.BatchStatusValidating, gen.BatchStatusQueued, gen.BatchStatusInProgress, gen.BatchStatusFinalizing:
		m.Status, m.CancellingAt = gen.BatchStatusCancelling, x.s.clock.Now().Unix()
	}
	meta := b.meta
	x.s.mu.Unlock()
	x.writeBatch(meta)
}

// find returns the batch with id, or nil; s.mu is held.
func (bs *batches) find(id string) *storedBatch {
	for _, b := range bs.list {
		if b.meta.ID == id {
			return b
		}
	}
	return nil
}

// advance expires b if its window has closed on the server's clock, and
// otherwise, if step, moves it one step through its lifecycle; s.mu is
// held.
func (s *Server) advance(b *storedBatch, step bool) {
	now := s.clock.Now()
	m := &b.meta
	switch m.Status {
	case gen.BatchStatusValidating, gen.BatchStatusQueued, gen.BatchStatusInProgress, gen.BatchStatusFinalizing:
		if now.Unix() >= m.ExpiresAt {
			s.expire(b)
			return
		}
	}
	if !step {
		return
	}
	switch m.Status {
	case gen.BatchStatusValidating, gen.BatchStatusQueued:
		if msg := checkBatchLines(b.lines); msg != "" {
			m.Status, m.FailedAt = gen.BatchStatusFailed, now.Unix()
			m.Errors = map[string]any{"object": "list", "data": []any{map[string]any{"code": "invalid_input_file", "message": msg}}}
			return
		}
		m.Status, m.InProgressAt, b.started = gen.BatchStatusInProgress, now.Unix(), now
	case gen.BatchStatusInProgress:
		n := len(b.lines)
		if s.batchRunTime > 0 {
			n = s.doneBy(b, now)
		}
		if s.run(b, n); b.ran < len(b.lines) {
			return // still running
		}
		m.Status, m.FinalizingAt = gen.BatchStatusFinalizing, now.Unix()
	case gen.BatchStatusFinalizing:
		s.storeResults(b)
		m.Status, m.CompletedAt = gen.BatchStatusCompleted, now.Unix()
	case gen.BatchStatusCancelling:
		s.storeResults(b)
		m.Status, m.CancelledAt = gen.BatchStatusCancelled, now.Unix()
	}
}

// doneBy returns how many of b's requests have run by t, with
// WithBatchRunTime: a share of them in proportion to the run time elapsed
// since b went in_progress.
func (s *Server) doneBy(b *storedBatch, t time.Time) int {
	elapsed := t.Sub(b.started)
	if elapsed >= s.batchRunTime {
		return len(b.lines)
	}
	return int(float64(len(b.lines)) * max(float64(elapsed), 0) / float64(s.batchRunTime))
}

// expiredMessage is the message of a request a batch did not run before
// its window closed, with the code gen.BatchResultErrorCodeBatchExpired:
// OpenAI's Batch API's (Cerebras documents the line's status, "expired",
// and an error's shape, {"code", "message"}, but no code).
const expiredMessage = "This request could not be executed before the completion window expired."

// expire ends b as expired when its window has closed: the requests run
// by then (with WithBatchRunTime, those its run time allowed by expires_at;
// otherwise none until in_progress ends) are in its output and error files
// as usual; every other request has a line in the error file with status
// "expired" and counts as failed. s.mu is held.
func (s *Server) expire(b *storedBatch) {
	m := &b.meta
	if m.Status == gen.BatchStatusInProgress && s.batchRunTime > 0 {
		s.run(b, s.doneBy(b, time.Unix(m.ExpiresAt, 0)))
	}
	for _, l := range b.lines[b.ran:] {
		var in inputLine
		_ = json.Unmarshal(l, &in) // a batch still validating may not have one
		b.errs = append(append(b.errs, s.errorLine(in.CustomID, gen.BatchResultStatusExpired, string(gen.BatchResultErrorCodeBatchExpired), expiredMessage)...), '\n')
		m.RequestCounts.Failed++
	}
	b.ran = len(b.lines)
	s.storeResults(b)
	m.Status, m.ExpiredAt = gen.BatchStatusExpired, m.ExpiresAt
}

// checkBatchLines returns why the lines are not a batch, or "": every line
// must be an object with a custom_id of its own.
func checkBatchLines(lines [][]byte) string {
	seen := map[string]bool{}
	for i, l := range lines {
		var in inputLine
		if err := json.Unmarshal(l, &in); err != nil || in.CustomID == "" {
			return fmt.Sprintf("Line %d has no custom_id.", i+1)
		}
		if seen[in.CustomID] {
			return fmt.Sprintf("Line %d repeats the custom_id %q.", i+1, in.CustomID)
		}
		seen[in.CustomID] = true
	}
	return ""
}

// run answers b's requests up to the n-th that have not run yet, into
// b.out and b.errs, and counts them; s.mu is held.
func (s *Server) run(b *storedBatch, n int) {
	for _, l := range b.lines[b.ran:max(n, b.ran)] {
		line, ok := s.batchLine(l)
		if ok {
			b.out = append(append(b.out, line...), '\n')
			b.meta.RequestCounts.Completed++
		} else {
			b.errs = append(append(b.errs, line...), '\n')
			b.meta.RequestCounts.Failed++
		}
	}
	b.ran = max(n, b.ran)
}

// batchLine answers one request of a batch with the built-in model, as a
// result line in Cerebras' shape: {"custom_id", "status", "response"} or
// {"custom_id", "status": "failed", "error": {"code", "message"}}.
func (s *Server) batchLine(l []byte) ([]byte, bool) {
	x := &exchange{s: s} // the model needs only the server
	var in inputLine
	_ = json.Unmarshal(l, &in) // checkBatchLines made sure it is an object with a custom_id
	fail := func(code, msg string) ([]byte, bool) {
		return s.errorLine(in.CustomID, gen.BatchResultStatusFailed, code, msg), false
	}
	if in.Method != gen.BatchInputLineMethodPOST || in.URL != gen.BatchEndpointChatCompletions {
		return fail("invalid_request", fmt.Sprintf("Unsupported request %s %s: a batch runs POST /v1/chat/completions.", in.Method, in.URL))
	}
	var req gen.ChatCompletionNewParams
	if err := json.Unmarshal(in.Body, &req); err != nil {
		return fail("invalid_body", "Invalid request body: "+err.Error())
	}
	if !knownModel(req.Model) {
		return fail("model_not_found", fmt.Sprintf("Model %s does not exist or you do not have access to it.", req.Model))
	}
	if req.Stream != nil && *req.Stream {
		return fail("invalid_request", "A batch request cannot stream.")
	}
	conv := readConversation(req.Messages)
	n := 1
	if req.N != nil && *req.N > 1 {
		n = *req.N
	}
	plans := make([]choicePlan, n)
	for i := range plans {
		plans[i] = x.planChat(&req, conv, i)
	}
	top := 0
	if req.TopLogprobs != nil {
		top = *req.TopLogprobs
	}
	c := chatCompletion(fmt.Sprintf("chatcmpl-fake-%d", x.s.ids.Add(1)), req.Model, plans, chatUsage(conv, plans),
		req.Logprobs != nil && *req.Logprobs, top)
	resp, _ := json.Marshal(c)
	x.s.check("ChatCompletion", resp)
	return s.resultLine(in.CustomID, gen.BatchResultStatusSucceeded, resp, nil), true
}

// inputLine is a batch input line with its body left raw: a body that
// does not decode fails its request (invalid_body), not the whole batch.
type inputLine struct {
	gen.BatchInputLine
	Body json.RawMessage `json:"body"` // shadows the embedded, decoded Body
}

// errorLine is a result line in Cerebras' shape for a request that has no
// response: {"custom_id", "status", "error": {"code", "message"}}.
func (s *Server) errorLine(customID string, status gen.BatchResultStatus, code, msg string) []byte {
	return s.resultLine(customID, status, nil, &gen.ErrorDetail{Code: &code, Message: &msg})
}

// resultLine is a result line in Cerebras' shape: {"custom_id", "status",
// "response"} or {"custom_id", "status", "error"}, checked against the
// spec's BatchResultLine.
func (s *Server) resultLine(customID string, status gen.BatchResultStatus, response json.RawMessage, e *gen.ErrorDetail) []byte {
	l := gen.BatchResultLine{Response: response}
	l.CustomID, _ = json.Marshal(customID)
	l.Status, _ = json.Marshal(status)
	if e != nil {
		l.Error, _ = json.Marshal(e)
	}
	b, _ := json.Marshal(l)
	s.check("BatchResultLine", b)
	return b
}

// storeResults stores b's output and error files, those that have lines;
// s.mu is held.
func (s *Server) storeResults(b *storedBatch) {
	now := s.clock.Now().Unix()
	if len(b.out) > 0 {
		b.meta.OutputFileID = s.files.add(b.meta.ID+"_output.jsonl", b.out, now).ID
	}
	if len(b.errs) > 0 {
		b.meta.ErrorFileID = s.files.add(b.meta.ID+"_errors.jsonl", b.errs, now).ID
	}
}

func (x *exchange) writeBatch(meta gen.Batch) {
	b, _ := json.Marshal(meta)
	x.rateLimitHeaders()
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "Batch")
}

// batchNotFound sends a 404 for an unknown batch id.
func (x *exchange) batchNotFound(id, param string) {
	x.fail(http.StatusNotFound, fmt.Sprintf("Batch %s not found.", id), "not_found_error", param, "batch_not_found")
}
