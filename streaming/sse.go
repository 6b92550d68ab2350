package streaming

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
)

// DefaultMaxEventSize is the default limit on one line and on one event's data.
const DefaultMaxEventSize = 32 << 20

// initialBufferSize is the decoder's first read buffer; it grows, up to the
// event size limit, only for longer lines.
const initialBufferSize = 16 << 10

// Event is one server-sent event.
type Event struct {
	// Type is the event's name from its `event:` field; "" for unnamed events.
	Type string
	// Data is the event's `data:` lines joined by "\n". It aliases the
	// decoder's buffer and is valid until the next call to Next.
	Data []byte
	// ID is the last `id:` field seen in the stream.
	ID string
	// Retry is the last valid `retry:` field in milliseconds, or -1.
	Retry int
	// Unterminated reports an event that the end of the stream dispatched,
	// not a blank line: the stream may have been cut off in the middle of
	// it, and its data may be incomplete.
	Unterminated bool
}

// EventTooLargeError reports a line or an event larger than the decoder's
// limit or, from a Stream, an event whose decoded value would take far more
// memory than its bytes (Decoded).
type EventTooLargeError struct {
	// Limit is the limit in bytes: on the event's size, or when Decoded on
	// the memory its value may take (4 times its size plus 64 KiB).
	Limit int
	// Decoded reports an event within the size limit that is refused before
	// it is decoded because its value would take more than Limit bytes of
	// memory: only elements that decode into much more than their bytes,
	// such as thousands of empty objects, do that.
	Decoded bool
	// Size is the event's size in bytes, when Decoded.
	Size int
}

// Error names the limit and, for the size limit, the option that raises it.
func (e *EventTooLargeError) Error() string {
	if e.Decoded {
		return fmt.Sprintf("streaming: a %d-byte server-sent event would take more than %d bytes once decoded (4 times its size plus 64 KiB)", e.Size, e.Limit)
	}
	return fmt.Sprintf("streaming: server-sent event larger than the %d-byte limit (see WithMaxEventSize)", e.Limit)
}

// Decoder reads server-sent events from a stream, following the WHATWG
// event-stream rules: lines end in "\n", "\r" or "\r\n"; `data`, `event`,
// `id` and `retry` fields; one leading space stripped from a value; `:`
// comments ignored; an event dispatched on a blank line; one UTF-8 byte order
// mark at the very start of the stream ignored. Unlike the rules, an
// event cut off by the end of the stream (no final blank line) is still
// delivered, marked Unterminated, so a caller never loses the last event. Buffers are reused, so
// decoding allocates nothing per line in the steady state.
type Decoder struct {
	r       io.Reader
	buf     []byte
	start   int // unread data is buf[start:end]
	end     int
	scanned int // bytes at buf[start:] already searched for a line end
	max     int
	maxBuf  int // the largest buffer: max+1, one byte over telling a line too long from one of max bytes
	eof     bool
	started bool // a leading byte order mark has been looked for
	skipLF  bool // the previous line ended in '\r'; a following '\n' belongs to it
	err     error
	data    []byte
	hasData bool
	typ     []byte
	hasType bool
	id      string
	retry   int
	ev      Event
}

// NewDecoder returns a decoder reading from r with the given limit on the
// size of a line or an event (DefaultMaxEventSize when max <= 0). A limit
// as high as math.MaxInt means no practical limit: the buffer grows with
// the longest line, as far as memory allows.
func NewDecoder(r io.Reader, max int) *Decoder {
	if max <= 0 {
		max = DefaultMaxEventSize
	}
	return &Decoder{r: r, max: max, maxBuf: addSat(max, 1), retry: -1}
}

// addSat returns a+b, or math.MaxInt when that overflows (a, b >= 0).
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// Next reads the next event and reports whether there is one. It returns as
// soon as an event's terminating blank line has arrived, without waiting for
// more input. After Next returns false, Err reports why.
func (d *Decoder) Next() bool {
	if d.err != nil {
		return false
	}
	for {
		line, ok := d.line()
		if !ok {
			if d.err == io.EOF {
				// The end of the stream dispatches a pending event.
				if d.dispatch() {
					d.ev.Unterminated = true
					return true
				}
			}
			return false
		}
		if len(line) == 0 {
			if d.dispatch() {
				return true
			}
			continue
		}
		if err := d.field(line); err != nil {
			d.err = err
			return false
		}
	}
}

// Event returns the event read by the last call to Next.
func (d *Decoder) Event() Event { return d.ev }

// Err returns the error that stopped the decoder: nil at a clean end of the
// input, or the read error (io.EOF is reported as nil).
func (d *Decoder) Err() error {
	if d.err == io.EOF {
		return nil
	}
	return d.err
}

func (d *Decoder) dispatch() bool {
	if !d.hasData && !d.hasType {
		return false
	}
	d.ev = Event{Data: d.data, ID: d.id, Retry: d.retry}
	switch {
	case !d.hasType:
	case string(d.typ) == "error":
		d.ev.Type = "error"
	case string(d.typ) == "message":
		d.ev.Type = "message"
	default:
		d.ev.Type = string(d.typ)
	}
	d.data = d.data[:0]
	d.hasData, d.hasType = false, false
	d.typ = d.typ[:0]
	return true
}

func (d *Decoder) field(line []byte) error {
	if line[0] == ':' {
		return nil // comment
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if d.hasData {
			d.data = append(d.data, '\n')
		}
		if len(d.data)+len(value) > d.max {
			return &EventTooLargeError{Limit: d.max}
		}
		d.data = append(d.data, value...)
		d.hasData = true
	case "event":
		d.typ = append(d.typ[:0], value...)
		d.hasType = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			d.id = string(value)
		}
	case "retry":
		if n, err := strconv.Atoi(string(value)); err == nil && n >= 0 && isDigits(value) {
			d.retry = n
		}
	}
	return nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// line returns the next line without its terminator. The slice aliases the
// buffer and is valid until the next call.
func (d *Decoder) line() ([]byte, bool) {
	for {
		if !d.started && !d.skipBOM() {
			if err := d.fill(); err != nil {
				d.err = err
				return nil, false
			}
			continue
		}
		if d.skipLF && d.start < d.end {
			if d.buf[d.start] == '\n' {
				d.start++
				d.scanned = 0
			}
			d.skipLF = false
		}
		b := d.buf[d.start:d.end]
		// d.scanned bytes of b are known to hold no line terminator.
		rest := b[d.scanned:]
		lf := bytes.IndexByte(rest, '\n')
		search := rest
		if lf >= 0 {
			search = rest[:lf]
		}
		if cr := bytes.IndexByte(search, '\r'); cr >= 0 {
			cr += d.scanned
			d.start += cr + 1
			d.skipLF = true
			d.scanned = 0
			return b[:cr], true
		}
		if lf >= 0 {
			lf += d.scanned
			d.start += lf + 1
			d.scanned = 0
			return b[:lf], true
		}
		d.scanned = len(b)
		if d.eof {
			if len(b) > 0 {
				d.start = d.end
				d.scanned = 0
				return b, true
			}
			d.err = io.EOF
			return nil, false
		}
		if len(b) > d.max {
			d.err = &EventTooLargeError{Limit: d.max}
			return nil, false
		}
		if err := d.fill(); err != nil {
			d.err = err
			return nil, false
		}
	}
}

// bom is the UTF-8 byte order mark, which the event-stream rules ignore
// at the start of a stream (and only there).
var bom = []byte("\xEF\xBB\xBF")

// skipBOM drops a leading byte order mark. It reports false when the bytes
// read so far are too few to tell.
func (d *Decoder) skipBOM() bool {
	b := d.buf[d.start:d.end]
	if len(b) < len(bom) && bytes.HasPrefix(bom, b) && !d.eof {
		return false
	}
	if bytes.HasPrefix(b, bom) {
		d.start += len(bom)
	}
	d.started = true
	return true
}

// fill reads more input, compacting or growing the buffer as needed.
func (d *Decoder) fill() error {
	if d.buf == nil {
		d.buf = make([]byte, min(initialBufferSize, d.maxBuf))
	}
	if d.start > 0 {
		d.end = copy(d.buf, d.buf[d.start:d.end])
		d.start = 0
	}
	if d.end == len(d.buf) {
		size := min(addSat(len(d.buf), len(d.buf)), d.maxBuf)
		if size <= len(d.buf) {
			return &EventTooLargeError{Limit: d.max}
		}
		nb := make([]byte, size)
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err == io.EOF {
			d.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}
