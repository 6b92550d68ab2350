package client

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
)

// TestModelIDsAreOnePathSegment: whatever the id, the request goes to
// /v1/models/<id> with the id escaped as one segment, and an id that URL
// resolution would turn into another path ("." or "..") is refused before
// anything is sent.
func TestModelIDsAreOnePathSegment(t *testing.T) {
	srv := newServer(t, okJSON(modelJSON))
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	get := map[string]func(id string) error{
		"Get":       func(id string) error { _, err := c.Models.Get(ctx, id); return err },
		"GetFormat": func(id string) error { _, err := c.Models.GetFormat(ctx, id, gen.ModelFormatHuggingface); return err },
	}
	for name, call := range get {
		t.Run(name, func(t *testing.T) {
			for _, id := range []string{"", ".", ".."} {
				before := len(srv.requests())
				err := call(id)
				if err == nil || !strings.HasPrefix(err.Error(), "cerebras: Models."+name) || !strings.Contains(err.Error(), "model id") {
					t.Errorf("id %q: err = %v, want a client error naming the call and the id", id, err)
				}
				if n := len(srv.requests()) - before; n != 0 {
					t.Errorf("id %q: %d requests sent (to %s)", id, n, srv.last().RequestURI)
				}
			}
			for _, id := range []string{"llama3.1-8b", "a/b", "../x", "./..", "...", "..%2F", "%2e%2e", "a?b", "a#b", "a b", "ü", `a\b`} {
				if err := call(id); err != nil {
					t.Errorf("id %q: %v", id, err)
					continue
				}
				r := srv.last()
				uri, _, _ := strings.Cut(r.RequestURI, "?")
				if want := "/v1/models/" + url.PathEscape(id); uri != want || r.Path != "/v1/models/"+id {
					t.Errorf("id %q requested %s (path %s), want %s", id, r.RequestURI, r.Path, want)
				}
			}
		})
	}
}

// TestPublicModelFieldsDecode: the public model fields of the OpenRouter and
// Hugging Face formats reach the user as plain values.
func TestPublicModelFieldsDecode(t *testing.T) {
	body, err := os.ReadFile("../testdata/OpenRouterModelList/public-fields.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, okJSON(string(body)))
	c, _ := newTestClient(t, srv)
	resp, err := c.Models.ListFormat(context.Background(), ModelFormatOpenrouter)
	if err != nil {
		t.Fatal(err)
	}
	list, err := resp.AsOpenRouterModelList()
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("%+v, %v", list, err)
	}
	m := list.Data[0]
	if m.Limits.MaxContextLength != 131072 || !m.Capabilities.Reasoning || m.Capabilities.ParallelToolCalls ||
		m.Architecture.Modality != "text" || !m.SupportedParameters.Seed || m.Deprecated || m.Name != "gpt-oss-120b" {
		t.Errorf("public fields lost: %+v", m)
	}
}
