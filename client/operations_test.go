package client_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/internal/spec"
	"github.com/cerebras-go/cerebras/streaming"
)

// operationCall sends one operation of openapi.yaml through the client's
// exported methods, with c built from opts (warming off). It returns the
// first error a call returned.
type operationCall func(ctx context.Context, c *client.Client, opts []client.Option) error

// operations maps every operationId of openapi.yaml to the client methods
// that send it, so that an operation added to the spec without a method (or
// without an entry here) fails TestEveryOperationHasAClientMethod.
var operations = map[string]operationCall{
	"createChatCompletion": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		params := client.ChatCompletionNewParams{Model: client.ModelGemma431B, Messages: []client.ChatMessage{client.UserMessage("hi")}}
		if _, err := c.Chat.Completions.New(ctx, params); err != nil {
			return err
		}
		return drain(c.Chat.Completions.NewStreaming(ctx, params))
	},
	"createCompletion": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		params := client.CompletionNewParams{Model: client.ModelGemma431B, Prompt: client.Prompt("Once upon a time")}
		if _, err := c.Completions.New(ctx, params); err != nil {
			return err
		}
		return drain(c.Completions.NewStreaming(ctx, params))
	},
	"listModels": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		if _, err := c.Models.List(ctx); err != nil {
			return err
		}
		_, err := c.Models.ListFormat(ctx, client.ModelFormatOpenrouter)
		return err
	},
	"retrieveModel": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		if _, err := c.Models.Get(ctx, client.ModelGemma431B); err != nil {
			return err
		}
		_, err := c.Models.GetFormat(ctx, client.ModelGemma431B, client.ModelFormatHuggingface)
		return err
	},
	"listPublicModels": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		_, err := c.Models.ListPublic(ctx)
		return err
	},
	"retrievePublicModel": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		_, err := c.Models.GetPublic(ctx, client.ModelGemma431B)
		return err
	},
	"uploadFile": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		_, err := uploadBatchInput(ctx, c)
		return err
	},
	"listFiles": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		if _, err := c.Files.ListPage(ctx, client.FileListParams{}); err != nil {
			return err
		}
		for _, err := range c.Files.List(ctx, client.FileListParams{}) {
			if err != nil {
				return err
			}
		}
		return nil
	},
	"retrieveFile": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		f, err := uploadBatchInput(ctx, c)
		if err != nil {
			return err
		}
		_, err = c.Files.Get(ctx, f.ID)
		return err
	},
	"retrieveFileContent": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		f, err := uploadBatchInput(ctx, c)
		if err != nil {
			return err
		}
		body, err := c.Files.Content(ctx, f.ID)
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = io.Copy(io.Discard, body)
		return err
	},
	"deleteFile": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		f, err := uploadBatchInput(ctx, c)
		if err != nil {
			return err
		}
		_, err = c.Files.Delete(ctx, f.ID)
		return err
	},
	"createBatch": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		_, err := newBatch(ctx, c)
		return err
	},
	"listBatches": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		if _, err := c.Batches.ListPage(ctx, client.BatchListParams{}); err != nil {
			return err
		}
		for _, err := range c.Batches.List(ctx, client.BatchListParams{}) {
			if err != nil {
				return err
			}
		}
		return nil
	},
	"retrieveBatch": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		b, err := newBatch(ctx, c)
		if err != nil {
			return err
		}
		if _, err := c.Batches.Get(ctx, b.ID); err != nil {
			return err
		}
		// The fake moves a batch one step per retrieval, so Wait ends
		// after a few polls whatever the interval.
		_, err = c.Batches.Wait(ctx, b.ID, client.BatchWaitParams{Interval: time.Millisecond})
		return err
	},
	"cancelBatch": func(ctx context.Context, c *client.Client, _ []client.Option) error {
		b, err := newBatch(ctx, c)
		if err != nil {
			return err
		}
		_, err = c.Batches.Cancel(ctx, b.ID)
		return err
	},
	"tcpWarming": func(ctx context.Context, _ *client.Client, opts []client.Option) error {
		// client.New sends it in the background with a fixed 1 s timeout,
		// so a warm-up that timed out on a loaded machine is tried again.
		var err error
		for range 3 {
			if err = warm(ctx, opts); !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
		}
		return err
	},
}

// TestEveryOperationHasAClientMethod walks the operations of openapi.yaml
// and sends each through its entry in operations, to a fake serving that
// spec. Each request the fake received is mapped back to its operation by
// a router on the spec: every operation must be sent by its own entry and
// answered 2xx, so an operation without a client method, a table entry or
// a fake handler fails here, named.
func TestEveryOperationHasAClientMethod(t *testing.T) {
	doc, err := spec.Load("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil // route on paths alone
	rt, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	type operation struct{ method, path string }
	inSpec := map[string]operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId, so no table entry can name it", method, path)
				continue
			}
			inSpec[op.OperationID] = operation{method, path}
		}
	}
	if len(inSpec) == 0 {
		t.Fatal("openapi.yaml has no operations: the walk checked nothing")
	}
	for _, id := range slices.Sorted(maps.Keys(operations)) {
		if _, ok := inSpec[id]; !ok {
			t.Errorf("the operations table has %s, which is no operation of openapi.yaml: a typo, or an operation the spec dropped", id)
		}
	}

	for _, id := range slices.Sorted(maps.Keys(inSpec)) {
		op := inSpec[id]
		call, ok := operations[id]
		if !ok {
			t.Errorf("operation %s (%s %s) has no client method in the operations table: add the method and an entry", id, op.method, op.path)
			continue
		}
		t.Run(id, func(t *testing.T) {
			srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithWarmupRequests(true))
			var answers statusRecorder
			opts := []client.Option{
				client.WithAPIKey("csk-operations"), client.WithBaseURL(srv.URL), client.WithoutEnvironment(),
				client.WithTCPWarming(false), client.WithMaxRetries(0), client.WithMiddleware(answers.record),
			}
			c, err := client.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := call(t.Context(), c, opts); err != nil {
				t.Fatalf("operation %s (%s %s): its table entry failed: %v", id, op.method, op.path, err)
			}

			var received []string
			sent := false
			for _, r := range srv.Requests() {
				received = append(received, r.Method+" "+r.Path)
				got, err := operationOf(rt, r.Method, r.Path, r.RawQuery)
				if err != nil {
					t.Errorf("the fake received %s %s, which is no operation of openapi.yaml: %v", r.Method, r.Path, err)
				}
				sent = sent || got == id
			}
			if !sent {
				t.Errorf("operation %s (%s %s): its table entry sent no such request (the fake received %q): call the method that sends it", id, op.method, op.path, received)
			}
			for _, a := range answers.list() {
				if got, _ := operationOf(rt, a.method, a.path, ""); got != id {
					continue
				}
				switch {
				case a.status == http.StatusNotImplemented:
					t.Errorf("operation %s (%s %s) was answered 501: the fake has no handler for it in handlers (cerebrastest/exchange.go)", id, op.method, op.path)
				case a.status < 200 || a.status > 299:
					t.Errorf("operation %s (%s %s) was answered %d, want 2xx", id, op.method, op.path, a.status)
				}
			}
		})
	}
}

// operationOf returns the operationId of the spec operation a request
// with this method, path and query is routed to.
func operationOf(rt routers.Router, method, path, rawQuery string) (string, error) {
	route, _, err := rt.FindRoute(&http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}})
	if err != nil {
		return "", err
	}
	return route.Operation.OperationID, nil
}

// statusRecorder is client middleware that records the status of every
// response the client received.
type statusRecorder struct {
	mu      sync.Mutex
	answers []answer
}

type answer struct {
	method, path string
	status       int
}

func (s *statusRecorder) record(r *http.Request, next client.Next) (*http.Response, error) {
	resp, err := next(r)
	if err == nil {
		s.mu.Lock()
		s.answers = append(s.answers, answer{r.Method, r.URL.Path, resp.StatusCode})
		s.mu.Unlock()
	}
	return resp, err
}

func (s *statusRecorder) list() []answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.answers)
}

// warm builds a client from opts with warming on and waits until its
// warm-up, the only request it sends, has been answered.
func warm(ctx context.Context, opts []client.Option) error {
	warmed := make(chan error, 1)
	c, err := client.New(append(slices.Clone(opts), client.WithTCPWarming(true),
		client.WithMiddleware(func(r *http.Request, next client.Next) (*http.Response, error) {
			resp, err := next(r)
			warmed <- err
			return resp, err
		}))...)
	if err != nil {
		return err
	}
	defer c.Close()
	select {
	case err := <-warmed:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain reads a stream to its end, as a user's loop does.
func drain[T any](s *streaming.Stream[T], err error) error {
	if err != nil {
		return err
	}
	defer s.Close()
	for _, err := range s.All() {
		if err != nil {
			return err
		}
	}
	return nil
}

// batchInput is a one-request batch input file.
const batchInput = `{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gemma-4-31b","messages":[{"role":"user","content":"Hi"}]}}` + "\n"

func uploadBatchInput(ctx context.Context, c *client.Client) (*client.FileObject, error) {
	return c.Files.New(ctx, client.FileNewParams{File: strings.NewReader(batchInput), Filename: "requests.jsonl", Purpose: client.FilePurposeBatch})
}

func newBatch(ctx context.Context, c *client.Client) (*client.Batch, error) {
	f, err := uploadBatchInput(ctx, c)
	if err != nil {
		return nil, err
	}
	return c.Batches.New(ctx, client.BatchNewParams{
		InputFileID:      f.ID,
		Endpoint:         client.BatchEndpointChatCompletions,
		CompletionWindow: client.BatchCompletionWindowHours24,
	})
}
