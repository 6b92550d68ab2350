package client

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestOptionsThatDoNotApplyAreRefused: a call given an option its operation
// does not take fails with a *ParamError naming the option and the method,
// before anything is sent; it used to be ignored (a header parameter the
// operation does not have vanished).
func TestOptionsThatDoNotApplyAreRefused(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()
	stream := func(opts ...Option) error {
		s, err := c.Chat.Completions.NewStreaming(ctx, chatParams(), opts...)
		if err == nil {
			for range s.All() {
			}
			err = s.Err()
		}
		return err
	}
	content := func(opts ...Option) error {
		r, err := c.Files.Content(ctx, "file-x", opts...)
		if err == nil {
			_, _ = io.Copy(io.Discard, r)
			r.Close()
		}
		return err
	}
	tests := []struct {
		name   string
		call   func() error
		option string
		method string
	}{
		{"a header parameter listModels lacks", func() error { _, err := c.Models.List(ctx, WithQueueThreshold(100)); return err }, "WithQueueThreshold", "Models.List"},
		{"a header parameter createCompletion lacks", func() error {
			_, err := c.Completions.New(ctx, CompletionNewParams{Model: "m", Prompt: Prompt("x")}, WithQueueThreshold(100))
			return err
		}, "WithQueueThreshold", "Completions.New"},
		{"a header parameter of no file operation", func() error { _, err := c.Files.Get(ctx, "file-x", WithCFRay("ray")); return err }, "WithCFRay", "Files.Get"},
		{"extra body fields on a GET", func() error { _, err := c.Models.Get(ctx, "m", WithExtraBody(map[string]any{"x": 1})); return err }, "WithExtraBody", "Models.Get"},
		{"a request encoding on an upload", func() error {
			_, err := c.Files.New(ctx, FileNewParams{File: strings.NewReader("{}\n"), Filename: "a.jsonl", Purpose: FilePurposeBatch}, WithRequestEncoding(RequestEncodingGzip))
			return err
		}, "WithRequestEncoding", "Files.New"},
		{"a request encoding on a batch, whose JSON body the API takes as JSON only", func() error {
			_, err := c.Batches.New(ctx, BatchNewParams{InputFileID: "file-x", Endpoint: BatchEndpointChatCompletions, CompletionWindow: BatchCompletionWindowHours24},
				WithRequestEncoding(RequestEncodingMsgpack))
			return err
		}, "WithRequestEncoding", "Batches.New"},
		{"a request encoding on a GET", func() error { _, err := c.Models.List(ctx, WithRequestEncoding(RequestEncodingAuto)); return err }, "WithRequestEncoding", "Models.List"},
		{"a stream option on a whole response", func() error {
			_, err := c.Chat.Completions.New(ctx, chatParams(), WithStreamIdleTimeout(time.Second))
			return err
		}, "WithStreamIdleTimeout", "Chat.Completions.New"},
		{"the response size limit on a download", func() error { return content(WithMaxResponseSize(1 << 20)) }, "WithMaxResponseSize", "Files.Content"},
		{"pacing on a batch", func() error { _, err := c.Batches.Get(ctx, "batch-x", WithRateLimitPacing(true)); return err }, "WithRateLimitPacing", "Batches.Get"},
		{"a New option on a call", func() error { return stream(WithTCPWarming(false)) }, "WithTCPWarming", "Chat.Completions.NewStreaming"},
		{"the base URL on a call", func() error { _, err := c.Models.List(ctx, WithBaseURL(fake.URL)); return err }, "WithBaseURL", "Models.List"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.Requests())
			err := tt.call()
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param != tt.option || !strings.Contains(pe.Message, tt.method) {
				t.Fatalf("err = %v, want a *ParamError for %s naming %s", err, tt.option, tt.method)
			}
			if n := len(fake.Requests()) - before; n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// TestOptionsThatApplyAreSent: the same options, on operations that take
// them, are sent; and a client option applies only where it can, so a
// client-wide header parameter does not break the operations without it.
func TestOptionsThatApplyAreSent(t *testing.T) {
	fake, c := newFake(t, WithQueueThreshold(250), WithCFRay("ray-1"))
	ctx := context.Background()
	if _, err := c.Models.List(ctx); err != nil { // no queue_threshold: left out, not refused
		t.Fatal(err)
	}
	r := fake.Requests()
	if h := r[len(r)-1].Header; h.Get("Queue_threshold") != "" || h.Get("Cf-Ray") != "ray-1" {
		t.Errorf("Models.List sent queue_threshold %q, CF-RAY %q; want none and ray-1", h.Get("Queue_threshold"), h.Get("Cf-Ray"))
	}
	if _, err := c.Chat.Completions.New(ctx, chatParams(), WithAPIVersion(2), WithMaxResponseSize(1<<20)); err != nil {
		t.Fatal(err)
	}
	r = fake.Requests()
	if h := r[len(r)-1].Header; h.Get("Queue_threshold") != "250" || h.Get("X-Cerebras-Version-Patch") != "2" {
		t.Errorf("chat sent queue_threshold %q, version %q; want 250 and 2", h.Get("Queue_threshold"), h.Get("X-Cerebras-Version-Patch"))
	}
	s, err := c.Chat.Completions.NewStreaming(ctx, chatParams(), WithStreamIdleTimeout(time.Minute), WithMaxEventSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	for range s.All() {
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}
