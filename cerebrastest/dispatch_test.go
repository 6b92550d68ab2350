package cerebrastest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestEveryOperationHasAHandler walks the fake's own spec, loaded as the
// server loads it, so adding an operation to openapi.yaml without a handler
// fails here rather than as a 501 in some later test.
func TestEveryOperationHasAHandler(t *testing.T) {
	doc, _, err := loadSpec("")
	if err != nil {
		t.Fatal(err)
	}
	inSpec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId, so the fake cannot dispatch it", method, path)
				continue
			}
			inSpec[op.OperationID] = true
			if handlers[op.OperationID] == nil {
				t.Errorf("operation %s (%s %s) has no handler in handlers (exchange.go): the fake answers it 501", op.OperationID, method, path)
			}
		}
	}
	if len(inSpec) == 0 {
		t.Fatal("the spec has no operations: the walk checked nothing")
	}
	for _, id := range slices.Sorted(maps.Keys(handlers)) {
		if !inSpec[id] {
			t.Errorf("handlers has %s, which is no operation of the spec: a typo, or an operation the spec dropped", id)
		}
	}
}

// unimplementedPath is an operation the fake has no handler for, added to a
// scratch copy of the spec. Its path has a parameter, so the answer shows
// that it names the spec's path, not the request's.
const unimplementedPath = `  /v1/unimplemented/{item_id}:
    post:
      operationId: createUnimplemented
      summary: An operation the fake does not implement.
      parameters:
        - name: item_id
          in: path
          required: true
          schema:
            type: string
      responses:
        "200":
          description: Never sent by the fake.
`

// TestUnimplementedOperationIs501 serves a spec with one operation more than
// the fake implements: that operation is answered 501 with the API's error
// body naming it, never 200 {}.
func TestUnimplementedOperationIs501(t *testing.T) {
	const paths = "\npaths:\n"
	if !bytes.Contains(specYAML, []byte(paths)) {
		t.Fatalf("the embedded spec has no %q line to add a path under", paths)
	}
	spec := bytes.Replace(specYAML, []byte(paths), []byte(paths+unimplementedPath), 1)
	specFile := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(specFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(t, WithSpecFile(specFile))
	do := func(method, path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer test")
		resp, err := srv.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp, body.Bytes()
	}

	// The scratch spec is the fake's own plus one path: what it implements
	// is still served.
	if resp, body := do(http.MethodGet, "/v1/models"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/models with the scratch spec: status %d, want 200: %s", resp.StatusCode, body)
	}

	resp, body := do(http.MethodPost, "/v1/unimplemented/item-1")
	if resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("status %d, want 501: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("not the API's error body (%v): %s", err, body)
	}
	want := map[string]any{
		"message": "cerebrastest: operation createUnimplemented (POST /v1/unimplemented/{item_id}) is not implemented by the fake",
		"type":    "server_error",
		"param":   nil,
		"code":    "not_implemented",
	}
	for k, v := range want {
		if gv, ok := got.Error[k]; !ok || gv != v {
			t.Errorf("error.%s = %#v, want %#v (body %s)", k, got.Error[k], v, body)
		}
	}
	if len(got.Error) != len(want) {
		t.Errorf("error has fields %v, want exactly %v", got.Error, want)
	}
}
