package batchfile

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/internal/decodedsize"
)

// readAll reads a results file, returning what it yielded and what
// reading allocated.
func readAll(file []byte) (results []Result, errs []error, alloc uint64) {
	alloc = allocated(func() {
		for res, err := range Results(bytes.NewReader(file)) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			results = append(results, res)
		}
	})
	return results, errs, alloc
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestResultsHostileLineConstantMemory: a result line whose completion
// would take far more memory decoded than its bytes (a million empty
// choices), in either shape of a line, is refused before it is decoded
// with a *LineError matching ErrLineTooLarge, and Results goes on with the
// next line. Reading such a line allocates no more than reading a real
// line of its size (the line buffer and the raw copies, a small multiple of
// the line), where decoding it took over 50 times its size: one hostile
// line cannot break Results' constant memory.
func TestResultsHostileLineConstantMemory(t *testing.T) {
	const choices = 1_000_000 // 2.9 MiB of `{},`
	empty := strings.TrimSuffix(strings.Repeat("{},", choices), ",")
	text := `{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("x", len(empty)-55) + `"}}`
	lines := func(choices string) []string {
		completion := `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[` + choices + `]}`
		return []string{
			`{"custom_id":"big-cerebras","status":"succeeded","response":` + completion + `}`,
			`{"id":"batch_req_1","custom_id":"big-openai","response":{"status_code":200,"request_id":"r","body":` + completion + `},"error":null}`,
		}
	}
	good := `{"custom_id":"good","status":"succeeded","response":` + batchCompletionJSON + `}`
	file := func(big []string) []byte {
		return []byte(strings.Join([]string{good, big[0], good, big[1], good}, "\n") + "\n")
	}
	hostile, real := lines(empty), lines(text)
	if len(real[1]) != len(hostile[1]) {
		t.Fatalf("a real line of %d bytes, a hostile one of %d", len(real[1]), len(hostile[1]))
	}

	results, errs, realAlloc := readAll(file(real))
	if len(results) != 5 || len(errs) != 0 {
		t.Fatalf("real lines: %d results, errors %v", len(results), errs)
	}
	results, errs, alloc := readAll(file(hostile))
	limit := decodedsize.Limit(len(hostile[1]))
	t.Logf("2 lines of %.1f MiB and 3 small ones: hostile %.1f MiB allocated, real %.1f MiB (%.1fx and %.1fx a line; a line's decoded bound %.1f MiB)",
		float64(len(hostile[1]))/(1<<20), float64(alloc)/(1<<20), float64(realAlloc)/(1<<20),
		float64(alloc)/float64(len(hostile[1])), float64(realAlloc)/float64(len(hostile[1])), float64(limit)/(1<<20))
	if len(results) != 3 || results[0].Line != 1 || results[1].Line != 3 || results[2].Line != 5 {
		t.Errorf("%d results, want lines 1, 3 and 5", len(results))
	}
	for i, err := range errs {
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, ErrLineTooLarge) || le.Line != 2+2*i || !strings.HasPrefix(le.CustomID, "big-") ||
			!strings.Contains(err.Error(), "once decoded") {
			t.Errorf("error %d: %v; want a *LineError for line %d matching ErrLineTooLarge", i, err, 2+2*i)
		}
	}
	if len(errs) != 2 {
		t.Errorf("%d errors, want one for each hostile line: %v", len(errs), errs)
	}
	// Decoding one line, its buffer aside, stays within the line's bound.
	for _, s := range hostile {
		line := []byte(s)
		var err error
		parsed := allocated(func() { _, err = parseBatchResult(2, line) })
		t.Logf("decoding a hostile %.1f MiB line: %.1f MiB allocated (bound %.1f MiB): %v", float64(len(line))/(1<<20), float64(parsed)/(1<<20), float64(limit)/(1<<20), err)
		if !errors.Is(err, ErrLineTooLarge) || parsed > uint64(decodedsize.Limit(len(line))) {
			t.Errorf("decoding a %d-byte hostile line allocated %d bytes, err %v; want at most %d and ErrLineTooLarge", len(line), parsed, err, decodedsize.Limit(len(line)))
		}
	}
	if alloc > realAlloc {
		t.Errorf("reading 2 hostile lines of %d bytes allocated %d bytes, more than 2 real ones (%d)", len(hostile[1]), alloc, realAlloc)
	}
}
