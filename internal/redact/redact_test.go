package redact

import (
	"bytes"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	const long = "csk-abc123def456ghi789jkl012mno345pqr678stu901vwx234"
	cases := []struct {
		key, in, want string
	}{
		// A short key is replaced as a whole token only.
		{"test", "Bearer test", "Bearer [REDACTED]"},
		{"test", `{"key":"test"}`, `{"key":"[REDACTED]"}`},
		{"test", "test", "[REDACTED]"},
		{"test", "test, test.", "[REDACTED], [REDACTED]."},
		{"test", "X-Cerebrastest-Fault", "X-Cerebrastest-Fault"},
		{"test", "X-Cerebras-test-Fault", "X-Cerebras-test-Fault"},
		{"test", "req-test-1 testing latest test_x", "req-test-1 testing latest test_x"},
		{"test", "key=test&x=1", "key=[REDACTED]&x=1"},
		{"a", "injected_fault", "injected_fault"},
		{"a", "req-abc a bad a", "req-abc [REDACTED] bad [REDACTED]"},
		{"a", "aaa", "aaa"},
		{"a", "", ""},
		{"aa", "aaa aa", "aaa [REDACTED]"},
		{"csk-abc123", "invalid key csk-abc123.", "invalid key [REDACTED]."},
		{"csk-abc123", "csk-abc1234", "csk-abc1234"},
		// A long key is replaced wherever it is.
		{long, "Bearer " + long, "Bearer [REDACTED]"},
		{long, "Bearer%20" + long + "x", "Bearer%20[REDACTED]x"},
		{long, `"\n` + long + `"`, `"\n[REDACTED]"`},
		{long, long + long, "[REDACTED][REDACTED]"},
		{long, "csk-abc123", "csk-abc123"},
		// An empty key changes nothing.
		{"", "anything", "anything"},
	}
	for _, tc := range cases {
		if got := String(tc.in, tc.key); got != tc.want {
			t.Errorf("String(%q, %q) = %q, want %q", tc.in, tc.key, got, tc.want)
		}
		b := []byte(tc.in)
		if got := Bytes(b, tc.key); string(got) != tc.want {
			t.Errorf("Bytes(%q, %q) = %q, want %q", tc.in, tc.key, got, tc.want)
		} else if tc.in == tc.want && len(b) > 0 && &got[0] != &b[0] {
			t.Errorf("Bytes(%q, %q) copied an unchanged slice", tc.in, tc.key)
		}
	}
}

// FuzzString checks the rule's two promises on any text: the result never
// holds the key as a whole token (nor anywhere, for a long key), and
// removing the masks gives back the text, so nothing else was changed.
func FuzzString(f *testing.F) {
	f.Add("X-Cerebrastest-Fault: Bearer test", "test")
	f.Add("injected_fault a", "a")
	f.Add("xcsk-abc123def456ghi789jkl012y", "csk-abc123def456ghi789jkl012")
	f.Fuzz(func(t *testing.T, s, key string) {
		if key == "" || strings.Contains(key, Mask) || strings.Contains(s, Mask) {
			return
		}
		got := String(s, key)
		if len(key) >= MinAnywhere && strings.Contains(got, key) {
			t.Fatalf("String(%q, %q) = %q still holds the key", s, key, got)
		}
		if tokenOnly(key) && got != String(got, key) {
			// Nothing redactable is left. (A key with non-token bytes, which
			// real keys never have, can find a new boundary next to a mask.)
			t.Fatalf("String is not idempotent: %q -> %q -> %q", s, got, String(got, key))
		}
		parts := strings.Split(got, Mask)
		if strings.Join(parts, key) != s {
			t.Fatalf("String(%q, %q) = %q changed text that is not the key", s, key, got)
		}
		if !bytes.Equal(Bytes([]byte(s), key), []byte(got)) {
			t.Fatal("Bytes and String differ")
		}
	})
}

func tokenOnly(key string) bool {
	for i := 0; i < len(key); i++ {
		if !tokenByte(key[i]) {
			return false
		}
	}
	return true
}
