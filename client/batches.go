package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// The operations this file's methods send (operation.go).
var (
	opBatchesNew    = &operation{id: "createBatch", method: "Batches.New", create: true}
	opBatchesList   = &operation{id: "listBatches", method: "Batches.ListPage"}
	opBatchesGet    = &operation{id: "retrieveBatch", method: "Batches.Get"}
	opBatchesCancel = &operation{id: "cancelBatch", method: "Batches.Cancel"}
)

// BatchService creates, lists, retrieves, cancels and waits for batches
// (/v1/batches): chat completion requests read from an uploaded JSONL file
// (see batchfile.NewWriter and Files.New) and run asynchronously, their
// results written to an output file (see batchfile.Results and
// Files.Content).
//
// The Batch API is in Private Preview: Cerebras grants access on request.
// Without access every call fails with the API's own error, an *APIError
// (such as a 403 or a 404: errors.Is(err, ErrPermissionDenied) or
// ErrNotFound), exactly as the API sent it.
type BatchService struct {
	c *Client
}

// BatchListParams selects the batches List returns.
type BatchListParams struct {
	// Limit is how many batches a page holds, 1 to 100 (the API's default
	// is 20). List fetches as many pages as the loop consumes.
	Limit *int
	// After, if set, is a batch id: the listing starts after it.
	After *string
}

// New creates a batch (POST /v1/batches) from an uploaded input file and
// returns it, typically validating or queued.
//
// The API documents no idempotency key, and a second batch spends the
// quota twice, so New is retried only when the create cannot have taken
// effect: after a 429, an x-should-retry: true, or a failure before the
// request reached the server whole. A 5xx, a timeout or a broken connection
// after the request was sent, or a success whose body was cut, is returned
// at once: check List before creating again.
//
//	b, err := c.Batches.New(ctx, client.BatchNewParams{
//		InputFileID:      f.ID,
//		Endpoint:         client.BatchEndpointChatCompletions,
//		CompletionWindow: client.BatchCompletionWindowHours24,
//	})
func (s *BatchService) New(ctx context.Context, params BatchNewParams, opts ...Option) (*Batch, error) {
	// Sent like a chat request, so that WithExtraBody applies.
	cl, resp, err := s.c.post(ctx, opBatchesNew, opts, &params, s.endpoint)
	if cl == nil {
		return nil, err
	}
	return finish[gen.Batch](cl, resp, err)
}

// endpoint is POST /v1/batches as the generated builder makes it.
func (s *BatchService) endpoint(*config) (*endpoint, error) {
	return newEndpoint(gen.NewCreateBatchRequestWithBody(s.c.server, jsonContent, nil))
}

// Get returns a batch (GET /v1/batches/{batch_id}). The id is sent as one
// path segment: "", "." and ".." are refused before sending.
func (s *BatchService) Get(ctx context.Context, id string, opts ...Option) (*Batch, error) {
	if err := checkPathID("Batches.Get", "batch id", id); err != nil {
		return nil, err
	}
	return get[gen.Batch](s.c, ctx, opBatchesGet, opts, func(_ *config, server string) (*http.Request, error) {
		return gen.NewRetrieveBatchRequest(server, id)
	})
}

// Cancel cancels a batch (DELETE /v1/batches/{batch_id}) and returns it,
// typically cancelling: it becomes cancelled later (within about 10
// minutes), with the requests done by then in its output file. The id is
// sent as one path segment: "", "." and ".." are refused before sending.
func (s *BatchService) Cancel(ctx context.Context, id string, opts ...Option) (*Batch, error) {
	if err := checkPathID("Batches.Cancel", "batch id", id); err != nil {
		return nil, err
	}
	return get[gen.Batch](s.c, ctx, opBatchesCancel, opts, func(_ *config, server string) (*http.Request, error) {
		return gen.NewCancelBatchRequest(server, id)
	})
}

// ListPage returns one page of batches (GET /v1/batches): params.After and
// params.Limit select it; its HasMore says whether another follows, after
// its last batch's id. List pages through them all.
func (s *BatchService) ListPage(ctx context.Context, params BatchListParams, opts ...Option) (*BatchList, error) {
	return get[gen.BatchList](s.c, ctx, opBatchesList, opts, func(_ *config, server string) (*http.Request, error) {
		return gen.NewListBatchesRequest(server, &gen.ListBatchesParams{Limit: params.Limit, After: params.After})
	})
}

// List returns every batch, from params.After on, in the API's order. It
// fetches a page (params.Limit batches) when the loop reaches it, not
// before, and none after the loop breaks:
//
//	for b, err := range c.Batches.List(ctx, client.BatchListParams{}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(b.ID, b.Status)
//	}
//
// A failed page yields its error once, and ends the sequence.
func (s *BatchService) List(ctx context.Context, params BatchListParams, opts ...Option) iter.Seq2[*Batch, error] {
	fetch := func(after *string) ([]gen.Batch, bool, error) {
		p := params
		p.After = after
		page, err := s.ListPage(ctx, p, opts...)
		if err != nil {
			return nil, false, err
		}
		return page.Data, page.HasMore, nil
	}
	return pages("Batches.List", params.After, fetch, func(v *gen.Batch) string { return v.ID })
}

// BatchWaitParams configures Wait. The zero value polls after 1 s, then
// doubles the interval up to 30 s.
type BatchWaitParams struct {
	// Interval is the first delay between two polls (default 1 s).
	Interval time.Duration
	// MaxInterval caps the delay, which doubles after every poll (default
	// 30 s, and never below Interval).
	MaxInterval time.Duration
	// OnProgress, if set, is called with the batch when Wait first sees it
	// and whenever its status or request counts change, the final batch
	// included. It runs on Wait's goroutine; Wait does not keep the batch.
	OnProgress func(*Batch)
}

// Default polling intervals of Wait.
const (
	defaultBatchWaitInterval    = time.Second
	defaultBatchWaitMaxInterval = 30 * time.Second
)

// BatchTerminal reports whether status is final: completed, expired,
// failed or cancelled. A status the API adds later is not terminal.
func BatchTerminal(status BatchStatus) bool {
	switch status {
	case gen.BatchStatusCompleted, gen.BatchStatusExpired, gen.BatchStatusFailed, gen.BatchStatusCancelled:
		return true
	}
	return false
}

// Wait polls a batch (Get) until its status is terminal (see
// BatchTerminal) and returns it. The delay between polls starts at
// params.Interval and doubles up to params.MaxInterval. Wait returns
// promptly when ctx is done, with the batch it saw last (nil if none) and
// an error wrapping ctx's (errors.Is(err, context.Canceled) or
// context.DeadlineExceeded). A failed poll (after the client's retries)
// ends Wait with its error. A batch that ends failed or expired is not an
// error: check its Status and Errors.
func (s *BatchService) Wait(ctx context.Context, id string, params BatchWaitParams, opts ...Option) (b *Batch, err error) {
	ctx, end := s.c.observeOp(ctx, opts, Operation{Method: "Batches.Wait", Params: &params})
	if end != nil {
		defer func() {
			o := Outcome{Err: err}
			if err == nil {
				o.Result = b
			}
			end(o)
		}()
	}
	return s.wait(ctx, id, params, opts)
}

// wait is Wait without the observer.
func (s *BatchService) wait(ctx context.Context, id string, params BatchWaitParams, opts []Option) (*Batch, error) {
	interval := params.Interval
	if interval <= 0 {
		interval = defaultBatchWaitInterval
	}
	maxInterval := params.MaxInterval
	if maxInterval <= 0 {
		maxInterval = defaultBatchWaitMaxInterval
	}
	maxInterval = max(maxInterval, interval)
	var last *Batch
	for {
		b, err := s.Get(ctx, id, opts...)
		if err != nil {
			if ctx != nil && ctx.Err() != nil {
				return last, fmt.Errorf("cerebras: Batches.Wait %s: %w", id, ctx.Err())
			}
			return last, err
		}
		if params.OnProgress != nil && (last == nil || last.Status != b.Status || last.RequestCounts != b.RequestCounts) {
			params.OnProgress(b)
		}
		last = b
		if BatchTerminal(b.Status) {
			return b, nil
		}
		if err := s.c.sleep(ctx, interval); err != nil {
			return last, fmt.Errorf("cerebras: Batches.Wait %s: %w", id, err)
		}
		interval = min(2*interval, maxInterval)
	}
}
