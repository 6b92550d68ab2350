package cerebrastest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cerebras-go/cerebras/gen"
)

// batchWindow is how long a batch may run: the only completion window,
// 24 hours.
const batchWindow = 24 * 3600

// storedBatch is one batch of the in-memory store. A batch moves one step
// each time it is retrieved (GET /v1/batches/{id}), never by the clock:
// validating → in_progress → finalizing → completed, or from validating to
// failed when its input file is not a batch; a cancel makes it cancelling,
// and the next retrieval cancelled.
type storedBatch struct {
	meta  gen.Batch
	lines [][]byte // the input file's lines
	// out and errs are the output and error files' content, computed when
	// the requests run (or are cut short by a cancel), stored as files when
	// the batch ends.
	out, errs []byte
}

// batches is the fake's batch store, newest last; Server.mu guards it.
type batches struct {
	list []*storedBatch
	seq  int64
}

// Batches returns the batches the server holds, newest first, as List
// pages them.
func (s *Server) Batches() []gen.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]gen.Batch, 0, len(s.batches.list))
	for i := len(s.batches.list) - 1; i >= 0; i-- {
		out = append(out, s.batches.list[i].meta)
	}
	return out
}

// createBatch starts a batch from an uploaded file; it is validating.
func (x *exchange) createBatch() {
	var req gen.BatchCreateRequest
	if err := json.Unmarshal(x.body, &req); err != nil { // the spec validation makes this unlikely
		x.fail(http.StatusBadRequest, "Invalid request body: "+err.Error(), "invalid_request_error", "", "invalid_body")
		return
	}
	x.s.mu.Lock()
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
	n := x.s.batches.seq
	b := &storedBatch{lines: lines, meta: gen.Batch{
		ID: fmt.Sprintf("batch_%06d", n), Object: "batch", Endpoint: string(req.Endpoint),
		InputFileID: req.InputFileID, CompletionWindow: string(req.CompletionWindow),
		Status: gen.BatchStatusValidating, CreatedAt: created + n, ExpiresAt: created + n + batchWindow,
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
	x.advance(b)
	meta := b.meta
	x.s.mu.Unlock()
	x.writeBatch(meta)
}

// cancelBatch makes a batch that has not ended cancelling; the requests
// run so far (none while validating, the first half while in progress, all
// once finalizing) are its partial results.
func (x *exchange) cancelBatch() {
	x.s.mu.Lock()
	b := x.s.batches.find(x.params["batch_id"])
	if b == nil {
		x.s.mu.Unlock()
		x.batchNotFound(x.params["batch_id"], "batch_id")
		return
	}
	m := &b.meta
	switch m.Status {
	case gen.BatchStatusValidating, gen.BatchStatusQueued:
		x.run(b, 0)
	case gen.BatchStatusInProgress:
		x.run(b, len(b.lines)/2)
	}
	switch m.Status {
	case gen.BatchStatusValidating, gen.BatchStatusQueued, gen.BatchStatusInProgress, gen.BatchStatusFinalizing:
		m.Status, m.CancellingAt = gen.BatchStatusCancelling, m.CreatedAt+4
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

// advance moves b one step through its lifecycle; s.mu is held.
func (x *exchange) advance(b *storedBatch) {
	m := &b.meta
	switch m.Status {
	case gen.BatchStatusValidating, gen.BatchStatusQueued:
		if msg := checkBatchLines(b.lines); msg != "" {
			m.Status, m.FailedAt = gen.BatchStatusFailed, m.CreatedAt+1
			m.Errors = map[string]any{"object": "list", "data": []any{map[string]any{"code": "invalid_input_file", "message": msg}}}
			return
		}
		m.Status, m.InProgressAt = gen.BatchStatusInProgress, m.CreatedAt+1
	case gen.BatchStatusInProgress:
		x.run(b, len(b.lines))
		m.Status, m.FinalizingAt = gen.BatchStatusFinalizing, m.CreatedAt+2
	case gen.BatchStatusFinalizing:
		x.storeResults(b)
		m.Status, m.CompletedAt = gen.BatchStatusCompleted, m.CreatedAt+3
	case gen.BatchStatusCancelling:
		x.storeResults(b)
		m.Status, m.CancelledAt = gen.BatchStatusCancelled, m.CreatedAt+5
	}
}

// checkBatchLines returns why the lines are not a batch, or "": every line
// must be an object with a custom_id of its own.
func checkBatchLines(lines [][]byte) string {
	seen := map[string]bool{}
	for i, l := range lines {
		var in struct {
			CustomID string `json:"custom_id"`
		}
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

// run answers the first n requests of b, into b.out and b.errs, and counts
// them; s.mu is held.
func (x *exchange) run(b *storedBatch, n int) {
	var out, errs bytes.Buffer
	counts := gen.BatchRequestCounts{Total: len(b.lines)}
	for _, l := range b.lines[:n] {
		line, ok := x.batchLine(l)
		if ok {
			out.Write(line)
			out.WriteByte('\n')
			counts.Completed++
		} else {
			errs.Write(line)
			errs.WriteByte('\n')
			counts.Failed++
		}
	}
	b.out, b.errs, b.meta.RequestCounts = out.Bytes(), errs.Bytes(), counts
}

// batchLine answers one request of a batch with the built-in model, as a
// result line in Cerebras' shape: {"custom_id", "status", "response"} or
// {"custom_id", "status": "failed", "error": {"code", "message"}}.
func (x *exchange) batchLine(l []byte) ([]byte, bool) {
	var in struct {
		CustomID string          `json:"custom_id"`
		Method   string          `json:"method"`
		URL      string          `json:"url"`
		Body     json.RawMessage `json:"body"`
	}
	_ = json.Unmarshal(l, &in) // checkBatchLines made sure it is an object with a custom_id
	fail := func(code, msg string) ([]byte, bool) {
		b, _ := json.Marshal(map[string]any{"custom_id": in.CustomID, "status": "failed",
			"error": map[string]string{"code": code, "message": msg}})
		return b, false
	}
	if in.Method != http.MethodPost || in.URL != "/v1/chat/completions" {
		return fail("invalid_request", fmt.Sprintf("Unsupported request %s %s: a batch runs POST /v1/chat/completions.", in.Method, in.URL))
	}
	var req gen.ChatCompletionRequest
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
	b, _ := json.Marshal(map[string]any{"custom_id": in.CustomID, "status": "succeeded", "response": json.RawMessage(resp)})
	return b, true
}

// storeResults stores b's output and error files, those that have lines;
// s.mu is held.
func (x *exchange) storeResults(b *storedBatch) {
	if len(b.out) > 0 {
		b.meta.OutputFileID = x.s.files.add(b.meta.ID+"_output.jsonl", b.out).ID
	}
	if len(b.errs) > 0 {
		b.meta.ErrorFileID = x.s.files.add(b.meta.ID+"_errors.jsonl", b.errs).ID
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
