package batchfile

import (
	"io"
	"testing"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "csk-test-SECRET-0123456789"

// newFake returns the fake API, validating against the repository's
// openapi.yaml, and a client for it.
func newFake(t *testing.T, opts ...client.Option) (*cerebrastest.Server, *client.Client) {
	t.Helper()
	fake := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	base := []client.Option{client.WithAPIKey(testKey), client.WithBaseURL(fake.URL), client.WithoutEnvironment(), client.WithTCPWarming(false)}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return fake, c
}

// resultsByID reads result lines with Results, by custom_id, failing on
// an unreadable line and reporting a custom_id seen twice.
func resultsByID(t *testing.T, r io.Reader) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for res, err := range Results(r) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[res.CustomID]; dup {
			t.Errorf("custom_id %s appears twice", res.CustomID)
		}
		out[res.CustomID] = res
	}
	return out
}
