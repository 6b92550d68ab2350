package otelcerebras

import "strings"

// keyPrefix starts every Cerebras API key.
const keyPrefix = "csk-"

// minKeyTail is the fewest key bytes after keyPrefix that make a token
// key-shaped: a Cerebras key has about 48, and no word of prose or id this
// package records has "csk-" and 16 more letters or digits by chance.
const minKeyTail = 16

// keyMask replaces a key-shaped token.
const keyMask = "[REDACTED]"

// redact returns s with every key-shaped token ("csk-" and at least
// minKeyTail letters, digits, '-' or '_') replaced by keyMask. The client
// removes its own key from what it hands out (errors, logs); this catches
// a key that reaches an attribute by another way: in a message, a stop
// sequence, a tool's arguments, result or error. An Observer never sees the
// client's key, so it goes by the key's shape.
func redact(s string) string {
	if !strings.Contains(s, keyPrefix) {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, keyPrefix)
		if i < 0 {
			break
		}
		end := i + len(keyPrefix)
		for end < len(rest) && keyByte(rest[end]) {
			end++
		}
		if end-i-len(keyPrefix) < minKeyTail {
			b.WriteString(rest[:i+len(keyPrefix)])
			rest = rest[i+len(keyPrefix):]
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString(keyMask)
		rest = rest[end:]
	}
	b.WriteString(rest)
	return b.String()
}

// keyByte reports whether c can be part of a key.
func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
