package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/gen"
)

// TestImageTokens checks the formula against the table of Cerebras' docs
// (https://inference-docs.cerebras.ai/capabilities/image-inputs, "Token
// Usage"), then against the docs' own estimator (the estimateTokens
// function of that page, run in Node.js) where float64 arithmetic rounds
// differently from exact arithmetic: 280·10/847 is 154², yet the docs'
// arithmetic gives 153 tiles.
func TestImageTokens(t *testing.T) {
	for _, tc := range []struct {
		w, h, pw, ph, tokens int
		source               string
	}{
		{336, 226, 960, 624, 260, "docs' table"},
		{512, 512, 768, 768, 256, "docs' table"},
		{672, 672, 768, 768, 256, "docs' table"},
		{1, 1, 768, 768, 256, "estimator"},
		{1920, 1080, 1056, 576, 264, "estimator"},
		{1080, 1920, 576, 1056, 264, "estimator"},
		{4032, 3024, 912, 672, 266, "estimator"},
		{640, 480, 912, 672, 266, "estimator"},
		{2048, 64, 4512, 96, 188, "estimator"},
		{280, 1, 13440, 48, 280, "estimator"},
		{10, 847, 48, 7344, 153, "estimator"},
		{17, 1190, 48, 6672, 139, "estimator"},
		{34, 595, 144, 3312, 207, "estimator"},
		{55, 154, 432, 1344, 252, "estimator"},
		{10000, 10, 25392, 0, 0, "estimator"},
		{0, 10, 0, 0, 0, "not an image"},
		{-5, 10, 0, 0, 0, "not an image"},
	} {
		pw, ph := imageProcessedSize(tc.w, tc.h)
		got := ImageTokens(tc.w, tc.h)
		if int(pw) != tc.pw || int(ph) != tc.ph || got != tc.tokens {
			t.Errorf("%d × %d: processed at %v × %v, %d tokens; the %s says %d × %d, %d tokens",
				tc.w, tc.h, pw, ph, got, tc.source, tc.pw, tc.ph, tc.tokens)
		}
	}
}

// noise returns an image of random gray pixels, which PNG cannot compress:
// its data is about w·h bytes.
func noise(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSegments returns a JPEG with segments inserted after its
// start-of-image marker, as cameras put EXIF, ICC and XMP data before the
// frame header.
func withSegments(jpg []byte, segments ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segments {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// segment returns a JPEG segment: marker code, length, and n bytes of data.
func segment(code byte, n int) []byte {
	s := []byte{0xff, code, byte((n + 2) >> 8), byte(n + 2)}
	return append(s, bytes.Repeat([]byte{0xab}, n)...)
}

func dataURL(mime string, b []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func TestImageSize(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 336, 226))
	pngData, jpegData := pngBytes(t, gray), jpegBytes(t, gray)
	progressive := append([]byte(nil), jpegData...)
	sof := bytes.Index(progressive, []byte{0xff, 0xc0})
	progressive[sof+1] = 0xc2 // the same frame, marked progressive
	camera := withSegments(jpegData, segment(0xe1, 65533), segment(0xe2, 3000), segment(0xfe, 10), []byte{0xff, 0xff, 0xd0})
	wrapped := base64.StdEncoding.EncodeToString(pngData)
	var lines []string
	for len(wrapped) > 76 {
		lines, wrapped = append(lines, wrapped[:76]), wrapped[76:]
	}
	wrapped = strings.Join(append(lines, wrapped), "\r\n")
	for _, tc := range []struct {
		name string
		url  string
		bare bool
		ok   bool
	}{
		{"png data URL", dataURL("image/png", pngData), false, true},
		{"jpeg data URL", dataURL("image/jpeg", jpegData), false, true},
		{"progressive jpeg", dataURL("image/jpeg", progressive), false, true},
		{"jpeg with camera segments before its frame", dataURL("image/jpeg", camera), false, true},
		{"upper-case data URL", "DATA:IMAGE/PNG;BASE64," + base64.StdEncoding.EncodeToString(pngData), false, true},
		{"media type that says otherwise", dataURL("image/jpeg", pngData), false, true},
		{"base64 in lines", "data:image/png;base64," + wrapped, false, true},
		{"bare base64 of an image part", base64.StdEncoding.EncodeToString(pngData), true, true},
		{"bare base64 as a URL", base64.StdEncoding.EncodeToString(pngData), false, false},
		{"https URL", "https://example.com/cat.png", false, false},
		{"data URL without base64", "data:image/png," + string(pngData[:40]), false, false},
		{"data URL without data", "data:image/png;base64", false, false},
		{"not base64", "data:image/png;base64,!!!!" + base64.StdEncoding.EncodeToString(pngData), false, false},
		{"truncated png", dataURL("image/png", pngData[:20]), false, false},
		{"truncated jpeg", dataURL("image/jpeg", jpegData[:sof+4]), false, false},
		{"jpeg scan before a frame", dataURL("image/jpeg", withSegments(jpegData, segment(0xda, 4))), false, false},
		{"jpeg with extraneous bytes", dataURL("image/jpeg", withSegments(jpegData, []byte{0x00})), false, false},
		{"gif", dataURL("image/gif", []byte("GIF89a\x50\x01\xe2\x00")), false, false},
		{"empty", "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h, ok := imageSize([]byte(tc.url), tc.bare)
			switch {
			case ok != tc.ok:
				t.Fatalf("imageSize: ok %v, want %v", ok, tc.ok)
			case ok && (w != 336 || h != 226):
				t.Fatalf("imageSize = %d × %d, want 336 × 226", w, h)
			}
		})
	}
}

// FuzzImageSize: the header reader never panics, reads what
// image/png and image/jpeg read (when both read a size, they read the same
// one), and reads the same through a data URL as from the bytes.
func FuzzImageSize(f *testing.F) {
	img := image.NewRGBA(image.Rect(0, 0, 17, 5))
	img.Set(3, 3, color.White)
	f.Add(pngBytes(f, img))
	f.Add(jpegBytes(f, img))
	f.Add(withSegments(jpegBytes(f, img), segment(0xe0, 14), segment(0xe1, 300), []byte{0xff, 0x01}))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xc0, 0x00, 0x08, 0x08, 0x00, 0x01, 0x00, 0x01})
	f.Add([]byte(pngSignature + "\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, ok := imageHeaderSize(bytes.NewReader(b))
		if ok && (w <= 0 || h <= 0) {
			t.Fatalf("ok with a size of %d × %d", w, h)
		}
		for _, url := range []string{dataURL("image/png", b), base64.StdEncoding.EncodeToString(b)} {
			if w2, h2, ok2 := imageSize([]byte(url), true); w2 != w || h2 != h || ok2 != ok {
				t.Fatalf("through %.30q…: %d × %d, %v; from the bytes: %d × %d, %v", url, w2, h2, ok2, w, h, ok)
			}
		}
		_, _, _ = imageSize(b, false) // any URL at all
		_, _, _ = imageSize(b, true)
		if !ok {
			return
		}
		var cfg image.Config
		var err error
		if bytes.HasPrefix(b, []byte(pngSignature)) {
			cfg, err = png.DecodeConfig(bytes.NewReader(b))
		} else {
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
		}
		if err == nil && (cfg.Width != w || cfg.Height != h) {
			t.Fatalf("read %d × %d; the standard library reads %d × %d", w, h, cfg.Width, cfg.Height)
		}
	})
}

// TestPacingEstimatesImagesByTheirTokens: an image part given as base64 PNG
// or JPEG data counts the tokens of its size in pacing's estimate, not a
// quarter of its bytes; one pacing cannot read still counts its bytes.
func TestPacingEstimatesImagesByTheirTokens(t *testing.T) {
	big := noise(512, 512) // 256 tokens; some 350 KB of base64 as PNG
	pngData := pngBytes(t, big)
	pngURL, jpegURL := dataURL("image/png", pngData), dataURL("image/jpeg", jpegBytes(t, big))
	// A header that gives a width of 0.
	corrupt := dataURL("image/png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x00"), pngData[20:]...))
	bare := base64.StdEncoding.EncodeToString(pngBytes(t, noise(336, 226))) // 260 tokens
	chat := func(parts ...ContentPart) ChatCompletionNewParams {
		p := pacedChat("", 20)
		p.Messages = []ChatMessage{SystemMessage("Be brief."), UserMessageParts(append([]ContentPart{TextPart("What is this?")}, parts...)...)}
		return p
	}
	for _, tc := range []struct {
		name   string
		params ChatCompletionNewParams
		bytes  int // the image data the estimate leaves out
		tokens int64
	}{
		{"png", chat(ImageURLPart(pngURL)), len(pngURL), 256},
		{"jpeg", chat(ImageURLPart(jpegURL)), len(jpegURL), 256},
		{"two images, one bare", chat(ImageURLPart(pngURL), ImagePart(bare)), len(pngURL) + len(bare), 256 + 260},
		{"an https URL, counted by its bytes", chat(ImageURLPart("https://example.com/cat.png")), 0, 0},
		{"a corrupt image, counted by its bytes", chat(ImageURLPart(corrupt)), 0, 0},
		{"text only", pacedChat("What is this?", 20), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := encodedSize(t, &tc.params)
			want := int64(size-tc.bytes+3)/4 + tc.tokens + 20
			if got := estimate(t, tc.params); got != want {
				t.Fatalf("estimate %d tokens, want %d: a quarter of %d bytes less %d of image data, %d image tokens and 20 of completion",
					got, want, size, tc.bytes, tc.tokens)
			}
		})
	}
}

// TestPacingSendsImagesTheBudgetAllows: against the fake's limiter, calls
// with a large image fit in a tokens-minute budget a few times their real
// cost, which a quarter of the image's bytes would exceed 40 times over
// (pacing would then refuse the second call until the reset).
func TestPacingSendsImagesTheBudgetAllows(t *testing.T) {
	limits := &cerebrastest.RateLimits{TokensPerMinute: 2000, Minute: time.Hour}
	_, c := pacedSetup(t, limits, stopped(), WithRateLimitPacing(true), WithPacingMaxWait(0))
	url := dataURL("image/png", pngBytes(t, noise(512, 512)))
	params := pacedChat("", 20)
	params.Messages = []ChatMessage{UserMessageParts(TextPart("What is this?"), ImageURLPart(url))}
	if old := int64(len(url)) / 4; old < 20*limits.TokensPerMinute {
		t.Fatalf("the image's bytes make %d tokens: too few for the test", old)
	}
	for i := range 3 {
		if _, err := c.Chat.Completions.New(context.Background(), params); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
}

// TestImagePartNames: the JSON names eachImagePart looks for are those of
// the generated types, which follow openapi.yaml.
func TestImagePartNames(t *testing.T) {
	for _, tc := range []struct {
		typ   reflect.Type
		field string
		name  string
	}{
		{reflect.TypeFor[gen.UserMessageParam](), "Content", keyContent},
		{reflect.TypeFor[gen.SystemMessageParam](), "Content", keyContent},
		{reflect.TypeFor[gen.DeveloperMessageParam](), "Content", keyContent},
		{reflect.TypeFor[gen.ImageURLContentPart](), "Type", keyType},
		{reflect.TypeFor[gen.ImageURLContentPart](), "ImageURL", keyImageURL},
		{reflect.TypeFor[gen.ImageURL](), "URL", keyURL},
		{reflect.TypeFor[gen.ImageContentPart](), "Type", keyType},
		{reflect.TypeFor[gen.ImageContentPart](), "Image", keyImage},
	} {
		f, ok := tc.typ.FieldByName(tc.field)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); !ok || name != tc.name {
			t.Errorf("%s.%s is %q in JSON; eachImagePart looks for %q", tc.typ, tc.field, name, tc.name)
		}
	}
}

// FuzzImageParts: eachImagePart finds the data of the image parts of a
// message the client built, and reads any JSON at all without panicking.
func FuzzImageParts(f *testing.F) {
	f.Add("What is this?", "data:image/png;base64,iVBORw0KGgo=", "iVBORw0KGgo=", []byte(`{"role":"user","content":[{"type":"image","image":"x"}]}`))
	f.Add("", "https://example.com/a<b>.png", "\u2028", []byte(`{"content":[{"image_url":{"url":"a\"b"},"type":"image_url"},1,[],{"image_url":7}]}`))
	f.Fuzz(func(t *testing.T, text, url, image string, raw []byte) {
		msg := UserMessageParts(TextPart(text), ImageURLPart(url), ImagePart(image))
		m, err := msg.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		// What encoding/json reads, less the strings with escapes.
		u, _ := msg.AsUserMessageParam()
		parts, err := u.Content.AsContentParts()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, p := range parts[1:] {
			raw, _ := p.MarshalJSON()
			if bytes.ContainsRune(raw, '\\') {
				continue
			}
			if v, _ := p.AsImageURLContentPart(); v.Type == gen.ImageURLContentPartTypeImageURL {
				want = append(want, fmt.Sprintf("%q false", v.ImageURL.URL))
			} else if v, _ := p.AsImageContentPart(); v.Type == gen.ImageContentPartTypeImage {
				want = append(want, fmt.Sprintf("%q true", v.Image))
			}
		}
		var got []string
		eachImagePart(m, func(data []byte, bare bool) { got = append(got, fmt.Sprintf("%q %v", data, bare)) })
		if !slices.Equal(got, want) {
			t.Fatalf("found %q in %s, want %q", got, m, want)
		}
		eachImagePart(raw, func(data []byte, bare bool) {
			if !bytes.Contains(raw, data) {
				t.Fatalf("found %q, which is not in %q", data, raw)
			}
		})
	})
}
