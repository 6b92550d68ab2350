package redact

import (
	"bytes"
	"math/rand/v2"
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

func TestPrefixCases(t *testing.T) {
	cases := []struct {
		in, key string
		n       int
		partial bool
		want    string
		cut     bool
	}{
		{"Bearer test", "test", 9, false, "Bearer [R", true},
		{"Bearer test", "test", 100, false, "Bearer [REDACTED]", false},
		{"testing", "test", 3, false, "tes", true}, // not the key: kept
		{"Bearer te", "test", 100, true, "Bearer ", true},
		{"abc", "test", 3, false, "abc", false},
		{"abc", "test", 0, false, "", true},
		{"abc", "", 2, false, "ab", true},
		{"abc", "", 2, true, "ab", true},
	}
	for _, tc := range cases {
		got, cut := PrefixString(tc.in, tc.key, tc.n, tc.partial)
		if got != tc.want || cut != tc.cut {
			t.Errorf("PrefixString(%q, %q, %d, %v) = %q, %v, want %q, %v", tc.in, tc.key, tc.n, tc.partial, got, cut, tc.want, tc.cut)
		}
		b, bcut := Prefix([]byte(tc.in), tc.key, tc.n, tc.partial)
		if string(b) != got || bcut != cut {
			t.Errorf("Prefix and PrefixString differ on %q", tc.in)
		}
	}
}

// TestPrefixNeverKeepsAKeyPrefix places one to three keys at random
// positions around the cut, in a filler that holds none of the key's
// bytes, and checks that no byte of a key reaches the result: keys before
// the cut are masked, one across it leaves no prefix, and so does one that
// the end of a partial input cuts off.
func TestPrefixNeverKeepsAKeyPrefix(t *testing.T) {
	for _, key := range []string{"csk-abc123def456ghi789jkl012mno345pqr678stu901vwz234", "csk-0123456789"} {
		rng := rand.New(rand.NewPCG(1, uint64(len(key))))
		for range 20000 {
			n := 1 + rng.IntN(300)
			var b strings.Builder
			for range 1 + rng.IntN(3) {
				b.WriteString(strings.Repeat(".", 1+rng.IntN(n+len(key)))) // a short key is one only as a whole token
				b.WriteString(key)
			}
			b.WriteString(strings.Repeat(".", rng.IntN(3)))
			text := b.String()
			full := String(text, key)
			for _, partial := range []bool{false, true} {
				in := text
				if partial {
					in = text[:rng.IntN(len(text)+1)]
				}
				got, cut := PrefixString(in, key, n, partial)
				if strings.ContainsAny(got, "csk") {
					t.Fatalf("PrefixString(%q, %d, partial %v) = %q keeps part of the key", in, n, partial, got)
				}
				if !strings.HasPrefix(full, got) || len(got) > n {
					t.Fatalf("PrefixString(%q, %d, partial %v) = %q is not a prefix of %q", in, n, partial, got, full)
				}
				if !partial && (got != full[:min(n, len(full))] || cut != (len(full) > n)) {
					t.Fatalf("PrefixString(%q, %d) = %q, %v, want the first %d bytes of %q", in, n, got, cut, n, full)
				}
			}
		}
	}
}

// FuzzPrefix: the result is a prefix of the redacted input, no longer than
// n, the whole cut when the input is whole; and for a long key made of
// bytes the filler lacks ('K' starts it), no part of any key survives,
// wherever the keys are and wherever a partial input stops.
func FuzzPrefix(f *testing.F) {
	f.Add("a", "b", "-abc123def456ghi789jkl", uint16(30), uint16(40), true)
	f.Add("xxxxxxxxxx", "y", "-0123456789012345678901234", uint16(5), uint16(50), false)
	f.Fuzz(func(t *testing.T, pre, post, keyTail string, n16, m16 uint16, partial bool) {
		if strings.Contains(pre+post+keyTail, Mask) {
			return
		}
		key := "K" + strings.ReplaceAll(keyTail, "K", "")
		pre, post = strings.ReplaceAll(pre, "K", ""), strings.ReplaceAll(post, "K", "")
		text := pre + key + post + key + pre
		n := int(n16) % (len(text) + 2)
		in := text
		if partial {
			in = text[:int(m16)%(len(text)+1)]
		}
		got, cut := PrefixString(in, key, n, partial)
		full := String(in, key)
		if len(got) > n || !strings.HasPrefix(full, got) {
			t.Fatalf("PrefixString(%q, %q, %d, %v) = %q, not a prefix of %q", in, key, n, partial, got, full)
		}
		if !partial && (got != full[:min(n, len(full))] || cut != (len(full) > n)) {
			t.Fatalf("PrefixString(%q, %q, %d) = %q, %v", in, key, n, got, cut)
		}
		if partial && !cut {
			t.Fatal("a partial input must report a cut")
		}
		if len(key) >= MinAnywhere && strings.Contains(got, "K") {
			t.Fatalf("PrefixString(%q, %q, %d, %v) = %q keeps part of the key", in, key, n, partial, got)
		}
		if b, bcut := Prefix([]byte(in), key, n, partial); string(b) != got || bcut != cut {
			t.Fatal("Prefix and PrefixString differ")
		}
	})
}
