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

// maxJSONDepth is encoding/json's nesting limit: json.Valid refuses a line
// nested deeper, and so Results does, so it is not done.
const maxJSONDepth = 10_000

// resumeLine is what resume needs of one output line, read by scanLine.
type resumeLine struct {
	n     int64  // bytes consumed, the LF included
	eof   bool   // the line ended at the end of the file, without an LF
	whole bool   // one complete JSON object, as json.Valid reads it, and nothing after it but white space
	id    string // the top-level custom_id, as Results reads it
	hasID bool
}

// scanLine reads the next line of br, through its LF, at constant memory
// whatever its length: a result line holds a whole chat completion, up to
// the response limit (64 MiB) or more, and which fields it holds or how
// they decode (another SDK version, a newer spec, a hand edit) does not
// matter to resume. It checks the whole JSON grammar as encoding/json does
// (a line is whole exactly when json.Valid accepts it and it is an object),
// without building anything, keeping only the top-level keys and the value
// of custom_id (bounded by MaxLineBytes, as the input line that named it
// was): a line cut short by a crash mid-write, or damaged by one (a
// zero-filled block, a stray control byte, a lost brace), is never whole.
// The jsonscan scanner is not used: it needs the whole line in one buffer.
func scanLine(br *bufio.Reader) (resumeLine, error) {
	var s lineScanner
	return s.scan(br)
}

// The states of lineScanner: where in the JSON grammar the next byte is.
type scanState uint8

const (
	stBegin      scanState = iota // before the top-level object
	stKeyOrEnd                    // after '{': a key or '}'
	stKey                         // after ',' in an object: a key
	stColon                       // after a key
	stValueOrEnd                  // after '[': a value or ']'
	stValue                       // after ':', or ',' in an array: a value
	stAfter                       // after a value: ',' or a closing bracket, or at depth 0 white space only
	stString                      // in a string
	stEscape                      // after '\' in a string
	stEscapeU                     // in the hex digits of a \u escape
	stMinus                       // after a number's '-'
	stZero                        // after a number's leading '0'
	stInt                         // in the digits of a number's integer part, after 1-9
	stDot                         // after a number's '.'
	stFrac                        // in the digits of a number's fraction
	stExp                         // after a number's 'e' or 'E'
	stExpSign                     // after the exponent's sign
	stExpDigits                   // in the digits of the exponent
	stLiteral                     // in true, false or null
	stBad                         // not one JSON object: the rest of the line is skipped
)

// lineScanner is scanLine's state: a JSON grammar checker that reads one
// byte at a time and holds no more than encoding/json's nesting limit in
// bits, a short key and custom_id's value, whatever the length of the line.
type lineScanner struct {
	l       resumeLine
	state   scanState
	depth   int                         // objects and arrays open
	arrays  [maxJSONDepth/64 + 1]uint64 // bit d-1: the level at depth d is an array
	lit     string                      // the rest of the literal being read
	hexLeft int                         // hex digits left in a \u escape
	strKey  bool                        // the string being read is a key
	inKey   bool                        // … a top-level key, kept in key
	key     []byte                      // the top-level key being read, as JSON without its quotes
	keyLong bool
	isID    bool   // the next top-level value is custom_id's
	capture []byte // custom_id's value, as JSON, while capturing
	capOn   bool   // capturing
	capLong bool   // the value is over MaxLineBytes: not kept
}

// scan reads one line of br; see scanLine.
func (s *lineScanner) scan(br *bufio.Reader) (resumeLine, error) {
	for {
		frag, err := br.ReadSlice('\n')
		s.l.n += int64(len(frag))
		lineEnd := err == nil
		if lineEnd {
			frag = frag[:len(frag)-1]
		}
		for i := 0; i < len(frag) && s.state != stBad; i++ {
			if s.state == stString && !s.inKey && !s.capOn {
				// The bulk of a line: string bytes, and escapes of one
				// letter, that change nothing.
				for i < len(frag) {
					if c := frag[i]; c == '\\' && i+1 < len(frag) && isShortEscape(frag[i+1]) {
						i += 2
					} else if c >= 0x20 && c != '"' && c != '\\' {
						i++
					} else {
						break
					}
				}
				if i == len(frag) {
					break
				}
			}
			s.step(frag[i])
		}
		switch {
		case lineEnd:
			return s.result(), nil
		case err == io.EOF:
			s.l.eof = true
			return s.result(), err
		case err != bufio.ErrBufferFull:
			return s.result(), err
		}
	}
}

// result is the line read so far.
func (s *lineScanner) result() resumeLine {
	l := s.l
	l.whole = s.state == stAfter && s.depth == 0
	return l
}

// isSpace reports JSON's white space (an LF ends the line before it gets here).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// step reads the next byte c of the line.
func (s *lineScanner) step(c byte) {
	if s.capOn && !s.capLong {
		if s.capture = append(s.capture, c); len(s.capture) > MaxLineBytes {
			s.capLong, s.capture = true, nil
		}
	}
	switch s.state {
	case stBegin:
		switch {
		case isSpace(c):
		case c == '{':
			s.push(false)
		default:
			s.state = stBad
		}
	case stKeyOrEnd, stKey:
		switch {
		case isSpace(c):
		case c == '}' && s.state == stKeyOrEnd:
			s.pop()
		case c == '"':
			s.state, s.strKey = stString, true
			if s.depth == 1 {
				s.inKey, s.key, s.keyLong = true, s.key[:0], false
			}
		default:
			s.state = stBad
		}
	case stColon:
		switch {
		case isSpace(c):
		case c == ':':
			s.state = stValue
		default:
			s.state = stBad
		}
	case stValueOrEnd:
		switch {
		case isSpace(c):
		case c == ']':
			s.pop()
		default:
			s.state = stValue
			s.beginValue(c)
		}
	case stValue:
		if !isSpace(c) {
			s.beginValue(c)
		}
	case stAfter:
		switch {
		case isSpace(c):
		case s.depth == 0:
			s.state = stBad // data after the top-level object
		case c == ',' && s.inArray():
			s.state = stValue
		case c == ',':
			s.state = stKey
		case c == ']' && s.inArray(), c == '}' && !s.inArray():
			s.pop()
		default:
			s.state = stBad
		}
	case stString:
		switch {
		case c == '"':
			if !s.strKey {
				s.endValue()
				return
			}
			s.state = stColon
			if s.inKey {
				s.inKey = false
				if s.isID = !s.keyLong && isCustomIDKey(s.key); s.isID {
					s.l.id, s.l.hasID = "", false // the last custom_id counts, as encoding/json reads it
				}
			}
			return
		case c == '\\':
			s.state = stEscape
		case c < 0x20:
			s.state = stBad
			return
		}
		s.keepKey(c)
	case stEscape:
		switch {
		case isShortEscape(c):
			s.state = stString
		case c == 'u':
			s.state, s.hexLeft = stEscapeU, 4
		default:
			s.state = stBad
			return
		}
		s.keepKey(c)
	case stEscapeU:
		if !isHex(c) {
			s.state = stBad
			return
		}
		if s.hexLeft--; s.hexLeft == 0 {
			s.state = stString
		}
		s.keepKey(c)
	case stMinus:
		switch {
		case c == '0':
			s.state = stZero
		case '1' <= c && c <= '9':
			s.state = stInt
		default:
			s.state = stBad
		}
	case stZero, stInt, stFrac, stExpDigits:
		switch {
		case isDigit(c) && s.state != stZero:
		case c == '.' && (s.state == stZero || s.state == stInt):
			s.state = stDot
		case (c == 'e' || c == 'E') && s.state != stExpDigits:
			s.state = stExp
		default: // the number ended before c
			if s.capOn && !s.capLong {
				s.capture = s.capture[:len(s.capture)-1]
			}
			s.endValue()
			s.step(c) // stAfter: cannot recurse further
		}
	case stDot:
		if !isDigit(c) {
			s.state = stBad
			return
		}
		s.state = stFrac
	case stExp:
		switch {
		case c == '+' || c == '-':
			s.state = stExpSign
		case isDigit(c):
			s.state = stExpDigits
		default:
			s.state = stBad
		}
	case stExpSign:
		if !isDigit(c) {
			s.state = stBad
			return
		}
		s.state = stExpDigits
	case stLiteral:
		if c != s.lit[0] {
			s.state = stBad
			return
		}
		if s.lit = s.lit[1:]; s.lit == "" {
			s.endValue()
		}
	}
}

// beginValue reads c, the first byte of a value.
func (s *lineScanner) beginValue(c byte) {
	if s.depth == 1 && s.isID {
		s.isID = false
		if c != '{' && c != '[' { // an object or array is no custom_id
			s.capOn, s.capture, s.capLong = true, append(s.capture[:0], c), false
		}
	}
	switch {
	case c == '{':
		s.push(false)
	case c == '[':
		s.push(true)
	case c == '"':
		s.state, s.strKey = stString, false
	case c == '-':
		s.state = stMinus
	case c == '0':
		s.state = stZero
	case '1' <= c && c <= '9':
		s.state = stInt
	case c == 't':
		s.state, s.lit = stLiteral, "rue"
	case c == 'f':
		s.state, s.lit = stLiteral, "alse"
	case c == 'n':
		s.state, s.lit = stLiteral, "ull"
	default:
		s.state = stBad
	}
}

// endValue ends a string, number or literal, and custom_id's capture.
func (s *lineScanner) endValue() {
	s.state = stAfter
	if s.capOn {
		s.capOn = false
		if !s.capLong {
			s.l.id, s.l.hasID = jsonText(s.capture)
		}
	}
}

// push opens an object or an array.
func (s *lineScanner) push(array bool) {
	if s.depth == maxJSONDepth {
		s.state = stBad
		return
	}
	w, bit := s.depth/64, uint64(1)<<(s.depth%64)
	if array {
		s.arrays[w] |= bit
		s.state = stValueOrEnd
	} else {
		s.arrays[w] &^= bit
		s.state = stKeyOrEnd
	}
	s.depth++
}

// pop closes the innermost object or array.
func (s *lineScanner) pop() {
	s.depth--
	s.state = stAfter
}

// inArray reports whether the innermost level open is an array.
func (s *lineScanner) inArray() bool {
	d := s.depth - 1
	return s.arrays[d/64]&(uint64(1)<<(d%64)) != 0
}

// keepKey adds c to the top-level key being read.
func (s *lineScanner) keepKey(c byte) {
	if s.inKey && !s.keyLong {
		if s.key = append(s.key, c); len(s.key) > resumeKeyBytes {
			s.keyLong = true
		}
	}
}

// isShortEscape reports the letters of JSON's escapes but \uXXXX.
func isShortEscape(c byte) bool {
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

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
