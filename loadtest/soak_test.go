// Package loadtest drives the SDK hard against the fake server: a soak test
// with injected faults (run by make test) and the load and memory
// benchmarks behind BENCHMARKS.md.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Faults the soak test injects, by the fake's FaultHeader. Transient ones
// fail the first attempt only: the SDK must retry them into a success.
var (
	transient    = []string{"500-once", "502-once", "503-once", "429-once", "reset-once", "stall-once"}
	streamFaults = []string{"reset-mid-stream", "stall-mid-stream", "inband-error", "truncate"}
)

// expectStreamFault reports whether err is the typed error the fault means.
func expectStreamFault(fault string, err error) bool {
	var apiErr *client.APIError
	switch fault {
	case "reset-mid-stream":
		return errors.Is(err, streaming.ErrTruncated) || strings.Contains(err.Error(), "connection lost")
	case "stall-mid-stream":
		return errors.Is(err, streaming.ErrIdleTimeout)
	case "inband-error":
		return errors.As(err, &apiErr) && apiErr.InStream && apiErr.StatusCode == 503
	case "truncate":
		return errors.Is(err, streaming.ErrTruncated)
	}
	return false
}

// Timeouts for the soak. Nothing in it depends on the machine's speed: only
// requests whose server is really silent (the stall faults) run under a
// timeout short enough to fire, and the stall lasts until the client gives
// up, so it fires however loaded the machine is. Every other request, and
// the retry after a stall, has far more time than a loaded machine needs.
const (
	// stallTimeout is the per-attempt timeout of requests whose first
	// attempt stalls; the retry that follows must answer within it.
	stallTimeout = 15 * time.Second
	// stallIdleTimeout is the idle timeout of streams that go silent
	// midway. Firing early, before the first events, is the same error.
	stallIdleTimeout = time.Second
)

// faultOptions are the per-request options for a fault: the FaultHeader
// that injects it and, for a stall, the timeout that detects it.
func faultOptions(fault string) []client.Option {
	if fault == "" {
		return nil
	}
	opts := []client.Option{client.WithHeader(cerebrastest.FaultHeader, fault)}
	switch fault {
	case "stall-once":
		opts = append(opts, client.WithRequestTimeout(stallTimeout))
	case "stall-mid-stream":
		opts = append(opts, client.WithStreamIdleTimeout(stallIdleTimeout))
	}
	return opts
}

// TestSoak sends 1,000 mixed requests (plain, streaming, with tools) through
// one client at concurrency 64, with faults injected into ~30% of them.
func TestSoak(t *testing.T) {
	const total, concurrency = 1000, 64
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("soak"), client.WithoutEnvironment(),
		client.WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	type args struct {
		Query string `json:"query"`
	}
	tool, err := client.FunctionToolFor[args]("lookup", "Look something up")
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	var mu sync.Mutex
	outcomes := map[string]int{}
	var failures []string
	record := func(outcome string, failure string) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[outcome]++
		if failure != "" && len(failures) < 20 {
			failures = append(failures, failure)
		}
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range total {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			stream := i%2 == 0
			withTools := i%5 == 0
			fault := ""
			if i%10 < 3 { // 30%
				fault = transient[(i/10)%len(transient)]
				if stream && i%20 < 3 {
					fault = streamFaults[(i/20)%len(streamFaults)]
				}
			}
			tag := fmt.Sprintf("req-%d", i)
			params := client.ChatCompletionNewParams{Model: client.ModelGemma431B, Messages: []client.ChatMessage{client.UserMessage("Please echo " + tag)}}
			if withTools {
				params.Tools, params.ToolChoice = []client.Tool{tool}, client.ToolChoiceRequired()
			}
			opts := faultOptions(fault)
			ctx := context.Background()
			var got string
			var err error
			if stream {
				got, err = runStream(ctx, c, params, opts)
			} else {
				got, err = runPlain(ctx, c, params, opts)
			}
			name := fmt.Sprintf("%s stream=%v tools=%v fault=%q", tag, stream, withTools, fault)
			isStreamFault := false
			for _, f := range streamFaults {
				isStreamFault = isStreamFault || f == fault
			}
			switch {
			case isStreamFault && err == nil:
				record("fault-missed", name+": no error")
			case isStreamFault && !expectStreamFault(fault, err):
				record("wrong-error", fmt.Sprintf("%s: %v", name, err))
			case isStreamFault:
				record("typed-error:"+fault, "")
			case err != nil:
				record("unexpected-error", fmt.Sprintf("%s: %v", name, err))
			case !strings.Contains(got, tag) || strings.Count(got, "req-") != 1:
				record("mixed-up", fmt.Sprintf("%s: got %q", name, got))
			case fault != "":
				record("retried-ok:"+fault, "")
			default:
				record("ok", "")
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	_ = c.Close()

	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-32s %d", k, outcomes[k])
	}
	t.Logf("%d requests in %s", total, elapsed)
	for _, f := range failures {
		t.Error(f)
	}
	faulted := 0
	for k, n := range outcomes {
		if strings.HasPrefix(k, "retried-ok:") || strings.HasPrefix(k, "typed-error:") {
			faulted += n
		}
	}
	if faulted < total/4 || outcomes["ok"]+faulted != total {
		t.Errorf("%d faulted and %d clean of %d", faulted, outcomes["ok"], total)
	}
	// Every connection is released: the server sees none left open (the
	// last ones may take a moment to close on a loaded machine).
	deadline := time.Now().Add(time.Minute)
	for srv.OpenConnections() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.OpenConnections(); n != 0 {
		t.Errorf("%d connections still open after the run", n)
	}
}

func runPlain(ctx context.Context, c *client.Client, p client.ChatCompletionNewParams, opts []client.Option) (string, error) {
	resp, err := c.Chat.Completions.New(ctx, p, opts...)
	if err != nil {
		return "", err
	}
	return messageText(resp.Choices[0].Message), nil
}

func runStream(ctx context.Context, c *client.Client, p client.ChatCompletionNewParams, opts []client.Option) (string, error) {
	stream, err := c.Chat.Completions.NewStreaming(ctx, p, opts...)
	if err != nil {
		return "", err
	}
	var acc streaming.ChatCompletionAccumulator
	for chunk, err := range stream.All() {
		if err != nil {
			return "", err
		}
		acc.AddChunk(chunk)
	}
	return messageText(acc.ChatCompletion().Choices[0].Message), nil
}

// messageText is the content, or the tool call's arguments.
func messageText(m client.ChatCompletionMessage) string {
	if len(m.ToolCalls) > 0 && m.ToolCalls[0].Function.Arguments != "" {
		return m.ToolCalls[0].Function.Arguments
	}
	if m.Content != "" {
		return m.Content
	}
	return ""
}
