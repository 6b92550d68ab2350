// Package redact removes the API key from the text the SDK hands a user:
// error messages, error bodies and log lines. Package client and package
// streaming share it, so that every error follows the same rule.
//
// The rule: a key of at least MinAnywhere bytes (a Cerebras key is about
// 50) is replaced wherever it occurs, even inside a longer token, since a
// string that long is never there by chance and an escaped echo
// ("Bearer%20csk-…", "\ncsk-…" in JSON) must not leak it. A shorter key, such
// as a test key "test" or "a", is replaced only where it is a whole token:
// neither preceded nor followed by an ASCII letter, digit, '-' or '_'. So
// with the key "test", "Bearer test" and `"key":"test"` are redacted while
// "X-Cerebrastest-Fault" and "req-test-1" (a different, longer token) are
// left intact. Text that is not the key is never changed.
package redact

import "strings"

// Mask replaces each occurrence of the key.
const Mask = "[REDACTED]"

// MinAnywhere is the length from which a key is replaced wherever it
// occurs; a shorter key is replaced only as a whole token.
const MinAnywhere = 20

// String returns s with each occurrence of key that the package's rule
// selects replaced by Mask. An empty key changes nothing; s is returned as is
// when nothing is replaced.
func String(s, key string) string {
	if key == "" {
		return s
	}
	var b strings.Builder
	done, changed := 0, false // s[:done] has been written to b
	for i := 0; i <= len(s)-len(key); {
		j := strings.Index(s[i:], key)
		if j < 0 {
			break
		}
		start, end := i+j, i+j+len(key)
		if len(key) < MinAnywhere && (start > 0 && tokenByte(s[start-1]) || end < len(s) && tokenByte(s[end])) {
			i = start + 1 // part of a longer token: not the key
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString(Mask)
		done, i, changed = end, end, true
	}
	if !changed {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// Bytes is String for a byte slice. It returns b itself when nothing is
// replaced, and a new slice otherwise.
func Bytes(b []byte, key string) []byte {
	if key == "" {
		return b
	}
	s := string(b)
	if r := String(s, key); r != s {
		return []byte(r)
	}
	return b
}

// tokenByte reports whether c can be part of the same token as a key:
// keys and the identifiers around them are made of these.
func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// Prefix returns the first n bytes of the redacted b, and whether it cut
// anything off. It redacts all of b before it cuts, so that a key across
// the cut is masked whole, however many masks came before it (a mask is
// shorter than a long key, so a window of n+len(key) input bytes is not
// enough), and the cut leaves at most a prefix of the mask, never of the
// key. Every cut of text that may hold the key must go through Prefix.
//
// partial reports that b is only the start of the text (a read stopped
// there): a key that the end of b cuts off would then be a prefix of
// itself that redaction cannot match, so a tail of b that is a prefix of
// the key is dropped, and Prefix reports a cut.
//
// The result may share memory with b.
func Prefix(b []byte, key string, n int, partial bool) ([]byte, bool) {
	r := Bytes(b, key)
	if partial {
		r = r[:len(r)-partialKey(string(r), key)]
	}
	if len(r) > n {
		return r[:n], true
	}
	return r, partial
}

// PrefixString is Prefix for a string.
func PrefixString(s, key string, n int, partial bool) (string, bool) {
	r := String(s, key)
	if partial {
		r = r[:len(r)-partialKey(r, key)]
	}
	if len(r) > n {
		return r[:n], true
	}
	return r, partial
}

// partialKey is the length of the longest tail of s that is a proper
// prefix of key: what is left of a key that the end of s cut off.
func partialKey(s, key string) int {
	for j := min(len(key)-1, len(s)); j > 0; j-- {
		if strings.HasSuffix(s, key[:j]) {
			return j
		}
	}
	return 0
}
