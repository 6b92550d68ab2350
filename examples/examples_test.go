package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

// TestExamples builds every example program and runs it against the fake
// server, the way `make demo` does, so none of them rots.
func TestExamples(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	want := map[string][]string{
		"chat":        {"assistant: You said: What is a wafer-scale engine?", "usage:"},
		"streaming":   {"assistant: You said: Tell me a two-sentence story", "tokens)"},
		"accumulator": {"reasoning:", "answer: You said:", "finish reason stop"},
		"tools":       {"tool call: get_weather({City:Paris})", "assistant: According to the tool: 21 °C and sunny in Paris"},
		"agent": {`tool call (turn 1): get_weather({"city":"Paris"}) -> {"city":"Paris","temp_c":21,"sky":"sunny"}`,
			`tool call (turn 1): add({"a":1.5,"b":1.5}) -> 3`,
			`assistant: According to the tools: {"city":"Paris","temp_c":21,"sky":"sunny"}; 3`, "2 turns"},
		"structured":  {"decoded into a Go struct: {Title:"},
		"choices":     {"option 1:", "option 2:", "option 3:"},
		"concurrent":  {"What is 2+2?", "Say hi."},
		"timeouts":    {"within the deadline:", "stream cancelled by the caller after 3 chunks", "expired deadline: true"},
		"errors":      {"API error: status 404", "not found: true", "status=429", "retrying", "succeeded after retrying"},
		"completions": {"completion: Once upon a time", "finish reason: length"},
		"models":      {"model gpt-oss-120b", "retrieved: gpt-oss-120b"},
		"batch":       {"created batch_", "batch in_progress: 0 of 10 done", "batch completed: 10 of 10 done, 0 failed", "q01: You said: What is 2+2?", "q10: You said: What is H2O?"},
		"bulk":        {"interrupted after ", "resumed: skipped ", "of 5", "q1 succeeded: You said: What is 2+2?", "q5 succeeded: You said: Count to three."},
	}
	for name, substrings := range want {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bin, name))
			cmd.Env = append(os.Environ(), "CEREBRAS_BASE_URL="+srv.URL, "CEREBRAS_API_KEY=test-key", "CEREBRAS_CUSTOM_HEADERS=", "CEREBRAS_MODEL=",
				"CEREBRAS_BATCH_POLL=1ms") // the fake moves a batch on at every poll: no need to wait 1 s, 2 s …
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, s := range substrings {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
	if entries, _ := os.ReadDir("."); len(entries)-2 != len(want) { // doc.go and this file
		t.Errorf("%d example directories, %d checked: add the new example to this test", len(entries)-2, len(want))
	}
}
