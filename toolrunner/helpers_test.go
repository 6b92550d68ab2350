package toolrunner_test

import (
	"context"
	"iter"
	"testing"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newFake returns the fake API, validating against the repository's
// openapi.yaml, and a client for it.
func newFake(t *testing.T, opts ...client.Option) (*cerebrastest.Server, *client.Client) {
	t.Helper()
	fake := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	base := []client.Option{client.WithAPIKey("csk-test"), client.WithBaseURL(fake.URL), client.WithoutEnvironment(), client.WithTCPWarming(false)}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return fake, c
}

// setting changes a test's Runner.
type setting func(*toolrunner.Runner)

func maxTurns(n int) setting    { return func(r *toolrunner.Runner) { r.MaxTurns = n } }
func concurrency(n int) setting { return func(r *toolrunner.Runner) { r.Concurrency = n } }

func abortOnToolError(r *toolrunner.Runner) { r.AbortOnToolError = true }

// runner returns a Runner of c's chat with tools and the settings.
func runner(c *client.Client, tools []toolrunner.Tool, settings []setting) *toolrunner.Runner {
	r := &toolrunner.Runner{Chat: c.Chat.Completions, Tools: tools}
	for _, s := range settings {
		s(r)
	}
	return r
}

// runTools runs Runner.Run with the settings.
func runTools(c *client.Client, ctx context.Context, params client.ChatCompletionNewParams, tools []toolrunner.Tool, settings ...setting) (toolrunner.Transcript, error) {
	return runner(c, tools, settings).Run(ctx, params)
}

// runToolsStreaming runs Runner.Stream with the settings.
func runToolsStreaming(c *client.Client, ctx context.Context, params client.ChatCompletionNewParams, tools []toolrunner.Tool, settings ...setting) iter.Seq2[toolrunner.Event, error] {
	return runner(c, tools, settings).Stream(ctx, params)
}
