package batchfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// resumeKeyBytes bounds the top-level keys resumeLine keeps: longer ones
// cannot be "custom_id", even escaped ("\u0063…" is 6 bytes a letter).
const resumeKeyBytes = 64

// resumeLine is what resume needs of one output line, read by scanLine.
type resumeLine struct {
	n     int64  // bytes consumed, the LF included
	eof   bool   // the line ended at the end of the file, without an LF
	whole bool   // one JSON object, closed, and nothing after it but white space
	id    string // the top-level custom_id, as Results reads it
	hasID bool
}

// scanLine reads the next line of br, through its LF, at constant memory
// whatever its length: a result line holds a whole chat completion, up to
// the response limit (64 MiB) or more, and which fields it holds or how
// they decode (another SDK version, a newer spec, a hand edit) does not
// matter to resume. It follows the JSON structure (strings, escapes,
// nesting) without building anything, keeping only the top-level keys and
// the value of custom_id (bounded by MaxLineBytes, as the input line
// that named it was). It checks the structure, not the whole grammar: a
// line cut short by a crash mid-write is never whole, since its top-level
// object is closed only by its last byte. The jsonscan scanner is not used:
// it needs the whole line in one buffer.
func scanLine(br *bufio.Reader) (resumeLine, error) {
	var (
		l        resumeLine
		depth    int  // objects and arrays open
		started  bool // the top-level value began
		ended    bool // the top-level object closed
		bad      bool // not one object, or not balanced
		inStr    bool
		esc      bool
		wantKey  bool // at depth 1, the next string is a key
		inKey    bool
		key      []byte
		keyLong  bool
		isID     bool   // the value being read is custom_id's
		capture  []byte // custom_id's value, as JSON
		capLong  bool
		capStr   bool // capture is a string (else a scalar, until a delimiter)
		capturer bool // capture is in progress
	)
	endCapture := func() {
		capturer = false
		if !capLong {
			l.id, l.hasID = jsonText(capture)
		}
	}
	for {
		frag, err := br.ReadSlice('\n')
		l.n += int64(len(frag))
		lineEnd := err == nil
		if lineEnd {
			frag = frag[:len(frag)-1]
		}
		for _, c := range frag {
			if bad {
				break
			}
			if capturer && !capLong {
				capture = append(capture, c)
				if len(capture) > MaxLineBytes {
					capLong, capture = true, nil
				}
			}
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					if inKey {
						inKey = false
						isID = !keyLong && isCustomIDKey(key)
					} else if capturer && capStr {
						endCapture()
					}
					continue
				}
				if inKey && !keyLong {
					if key = append(key, c); len(key) > resumeKeyBytes {
						keyLong = true
					}
				}
				continue
			}
			if capturer && !capStr {
				switch c {
				case ',', '}', ']', ' ', '\t', '\r':
					capture = capture[:max(len(capture)-1, 0)] // the delimiter
					endCapture()
				}
			}
			switch c {
			case ' ', '\t', '\r':
				continue
			}
			if ended {
				bad = true // data after the top-level object
				break
			}
			if !started {
				started = true
				if c != '{' {
					bad = true
					break
				}
				depth, wantKey = 1, true
				continue
			}
			switch c {
			case '"':
				inStr = true
				if depth == 1 && wantKey {
					inKey, key, keyLong, wantKey = true, key[:0], false, false
				} else if depth == 1 && isID {
					capturer, capture, capLong, capStr, isID = true, append(capture[:0], c), false, true, false
				}
			case '{', '[':
				depth++
				isID = false // an object or array is not a custom_id
			case '}', ']':
				depth--
				if depth == 0 {
					ended = true
				} else if depth < 0 {
					bad = true
				}
			case ',':
				if depth == 1 {
					wantKey = true
				}
			case ':':
			default: // a number or literal
				if depth == 1 && isID {
					capturer, capture, capLong, capStr, isID = true, append(capture[:0], c), false, false, false
				}
			}
		}
		switch {
		case lineEnd:
			l.whole = ended && !bad && !inStr
			return l, nil
		case err == io.EOF:
			l.eof = true
			l.whole = ended && !bad && !inStr
			return l, err
		case err != bufio.ErrBufferFull:
			return l, err
		}
	}
}

// isCustomIDKey reports whether a top-level key (as JSON, without its
// quotes) names custom_id as encoding/json matches it: escapes decoded,
// case folded.
func isCustomIDKey(key []byte) bool {
	k := string(key)
	if bytes.IndexByte(key, '\\') >= 0 {
		if json.Unmarshal([]byte(`"`+k+`"`), &k) != nil {
			return false
		}
	}
	return strings.EqualFold(k, "custom_id")
}
