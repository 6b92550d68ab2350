package client

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"math"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/jsonscan"
)

// The image preprocessing of gemma-4-31b, the model that takes images, as
// Cerebras' docs give it (https://inference-docs.cerebras.ai/capabilities/image-inputs):
// an image becomes tiles of 48 × 48 pixels, one token each, at most 280.
const (
	imageTile      = 48
	maxImageTokens = 280
	imagePixels    = maxImageTokens * imageTile * imageTile // 645120, the area an image is scaled to
)

// ImageTokens returns the prompt tokens the API counts for an image of
// width × height pixels, by the formula of Cerebras' docs for gemma-4-31b:
// the image is scaled, keeping its aspect ratio, to about 645,120 pixels,
// each side is rounded down to a multiple of 48, and each 48 × 48 tile is a
// token, at most 280. A 336 × 226 image is processed at 960 × 624: 260
// tokens. A side that is not positive gives 0.
//
// The arithmetic is the docs' own, in float64 and in their order, so the
// result is theirs also where exact arithmetic would round the other way.
// Rate-limit pacing estimates the image parts of a request with it.
func ImageTokens(width, height int) int {
	pw, ph := imageProcessedSize(width, height)
	return int(min(pw/imageTile*(ph/imageTile), maxImageTokens))
}

// imageProcessedSize returns the size an image of width × height pixels is
// processed at, before the cap on its tokens: the docs' "processed
// resolution".
func imageProcessedSize(width, height int) (pw, ph float64) {
	if width <= 0 || height <= 0 {
		return 0, 0
	}
	w, h := float64(width), float64(height)
	scale := math.Sqrt(imagePixels / (w * h))
	return math.Floor(w*scale/imageTile) * imageTile, math.Floor(h*scale/imageTile) * imageTile
}

// imageTokensIn returns, for the image parts of msgs whose size it can read
// (imageSize), the bytes their data takes in the encoded request and the
// image tokens the API counts for them instead. Other image parts are left
// to the estimate of their bytes.
func imageTokensIn(msgs []ChatMessage) (size, tokens int) {
	for _, m := range msgs {
		raw, err := m.MarshalJSON() // the union's own bytes, not a copy
		if err != nil || !bytes.Contains(raw, []byte(`"image`)) {
			continue // no image part: not scanned
		}
		eachImagePart(raw, func(data []byte, bare bool) {
			if w, h, ok := imageSize(data, bare); ok {
				size += len(data)
				tokens += ImageTokens(w, h)
			}
		})
	}
	return size, tokens
}

// The JSON names that lead to an image part's data: a message's content
// parts, an image_url part's URL, an image part's image (TestImagePartNames
// checks them against the generated types).
const (
	keyContent  = "content"
	keyType     = "type"
	keyImageURL = "image_url"
	keyURL      = "url"
	keyImage    = "image"
)

// eachImagePart calls f with the data of each image part of a message's
// JSON: the URL of an image_url part, or the image of an image part (which
// may be bare base64). It reads the JSON in one pass, without copying; a
// string with escapes is not base64 data, and is passed by. The client
// encoded the JSON, so it stops at the first thing it does not expect.
// (Decoding the message with its As methods would take three passes of
// encoding/json over a multi-megabyte image, and three copies.)
func eachImagePart(raw []byte, f func(data []byte, bare bool)) {
	var s jsonscan.Scanner
	s.Reset(raw)
	if s.Peek() != '{' || s.Open() != nil {
		return
	}
	for first := true; ; {
		key, done, err := s.NextKey(&first)
		if err != nil || done {
			return
		}
		if string(key) != keyContent || s.Peek() != '[' {
			if s.SkipValue() != nil {
				return
			}
			continue
		}
		if s.Open() != nil {
			return
		}
		for first := true; ; {
			if more, err := s.NextElem(&first); err != nil || !more {
				return
			}
			typ, data, err := imagePart(&s)
			if err != nil {
				return
			}
			switch typ {
			case string(gen.ImageURLContentPartTypeImageURL):
				if data != nil {
					f(data, false)
				}
			case string(gen.ImageContentPartTypeImage):
				if data != nil {
					f(data, true)
				}
			}
		}
	}
}

// imagePart reads one content part: its type and, if it has one, the
// string of its image_url's url or of its image, without the quotes.
func imagePart(s *jsonscan.Scanner) (typ string, data []byte, err error) {
	if s.Peek() != '{' {
		return "", nil, s.SkipValue()
	}
	if err := s.Open(); err != nil {
		return "", nil, err
	}
	for first := true; ; {
		key, done, err := s.NextKey(&first)
		if err != nil || done {
			return typ, data, err
		}
		switch string(key) {
		case keyType:
			t, err := s.Str()
			if err != nil {
				return "", nil, err
			}
			typ = string(t)
		case keyImage:
			if data, err = plainString(s); err != nil {
				return "", nil, err
			}
		case keyImageURL:
			if s.Peek() != '{' {
				if err := s.SkipValue(); err != nil {
					return "", nil, err
				}
				continue
			}
			if err := s.Open(); err != nil {
				return "", nil, err
			}
			for first := true; ; {
				key, done, err := s.NextKey(&first)
				if err != nil {
					return "", nil, err
				}
				if done {
					break
				}
				if string(key) == keyURL {
					data, err = plainString(s)
				} else {
					err = s.SkipValue()
				}
				if err != nil {
					return "", nil, err
				}
			}
		default:
			if err := s.SkipValue(); err != nil {
				return "", nil, err
			}
		}
	}
}

// plainString reads a string value and returns its bytes in the input,
// without the quotes; nil for another value, or a string with escapes.
func plainString(s *jsonscan.Scanner) ([]byte, error) {
	raw, err := s.Raw()
	if err != nil || len(raw) < 2 || raw[0] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return nil, err
	}
	return raw[1 : len(raw)-1], nil
}

// imageSize returns the width and height of the PNG or JPEG image in an
// image part: a data URL of base64 data, or, when bare (an "image" part),
// base64 data alone. It reads the image's header only: the PNG's IHDR chunk,
// or the JPEG's segments up to its frame header. ok is false for anything
// else (an https URL, another format, data that does not decode), never an
// error: pacing then counts the part's bytes.
func imageSize(s []byte, bare bool) (w, h int, ok bool) {
	if len(s) >= 5 && bytes.EqualFold(s[:5], []byte("data:")) {
		meta, data, found := bytes.Cut(s[5:], []byte(","))
		if !found || len(meta) < 7 || !bytes.EqualFold(meta[len(meta)-7:], []byte(";base64")) {
			return 0, 0, false
		}
		s = data
	} else if !bare {
		return 0, 0, false
	}
	return imageHeaderSize(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(s)))
}

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// imageHeaderSize reads the width and height of a PNG or JPEG image from
// the start of r.
func imageHeaderSize(r io.Reader) (w, h int, ok bool) {
	var b [24]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return 0, 0, false
	}
	switch {
	case b[0] == pngSignature[0] && b[1] == pngSignature[1]:
		// The signature, then the IHDR chunk: its length (13), its type,
		// the width and the height, 4 bytes each, big-endian.
		if _, err := io.ReadFull(r, b[2:]); err != nil || string(b[:8]) != pngSignature ||
			binary.BigEndian.Uint32(b[8:]) != 13 || string(b[12:16]) != "IHDR" {
			return 0, 0, false
		}
		return positive(binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:]))
	case b[0] == 0xff && b[1] == 0xd8: // JPEG's start of image
		return jpegSize(r)
	}
	return 0, 0, false
}

// jpegSize reads a JPEG's segments after its start-of-image marker up to its
// frame header (a SOFn marker), which holds the height and the width. A
// marker is 0xff, any number of 0xff fill bytes, and its code; every
// segment before a frame header but the standalone markers (RSTn, TEM) has a
// length, which the segment is skipped by. Anything else, such as extraneous
// bytes that image/jpeg tolerates, ends the reading (ok false), so that what
// it reads is what image/jpeg reads.
func jpegSize(r io.Reader) (w, h int, ok bool) {
	var b [7]byte
	for {
		if _, err := io.ReadFull(r, b[:2]); err != nil || b[0] != 0xff {
			return 0, 0, false
		}
		code := b[1]
		for code == 0xff {
			if _, err := io.ReadFull(r, b[:1]); err != nil {
				return 0, 0, false
			}
			code = b[0]
		}
		switch {
		case code == 0x01 || 0xd0 <= code && code <= 0xd7: // TEM, RSTn: no length
			continue
		case code == 0x00 || code == 0xd8 || code == 0xd9 || code == 0xda:
			return 0, 0, false // not a marker, a second start, or the end or a scan before any frame
		}
		if _, err := io.ReadFull(r, b[:2]); err != nil {
			return 0, 0, false
		}
		n := int(binary.BigEndian.Uint16(b[:2])) - 2 // the length counts itself
		if n < 0 {
			return 0, 0, false
		}
		if 0xc0 <= code && code <= 0xcf && code != 0xc4 && code != 0xc8 && code != 0xcc { // SOFn
			// The sample precision, the height, the width.
			if n < 5 {
				return 0, 0, false
			}
			if _, err := io.ReadFull(r, b[:5]); err != nil {
				return 0, 0, false
			}
			return positive(uint32(binary.BigEndian.Uint16(b[3:])), uint32(binary.BigEndian.Uint16(b[1:])))
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return 0, 0, false
		}
	}
}

// positive returns w and h as ints, and whether both are positive and fit
// in an int32, as the PNG and JPEG specifications bound them.
func positive(w, h uint32) (int, int, bool) {
	if w == 0 || h == 0 || w > math.MaxInt32 || h > math.MaxInt32 {
		return 0, 0, false
	}
	return int(w), int(h), true
}
