package cerebrastest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
)

// MaxFileBytes is the largest file the fake accepts, like the real API:
// 200 MB.
const MaxFileBytes = 200 << 20

// maxFormOverhead is what an upload's multipart body may hold beyond the
// file: the form's other fields and the part headers.
const maxFormOverhead = 1 << 20

// fileRetention is how long an uploaded file is kept: 7 days, as the API
// documents.
const fileRetention = 7 * 24 * 3600

// storedFile is one uploaded file of the in-memory store.
type storedFile struct {
	meta    gen.FileObject
	content []byte
}

// files is the fake's file store, newest last; Server.mu guards it.
type files struct {
	list []*storedFile
	seq  int64
}

// Files returns the metadata of the files the server holds, newest first,
// as List pages them.
func (s *Server) Files() []gen.FileObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files.prune(s.clock.Now().Unix())
	out := make([]gen.FileObject, 0, len(s.files.list))
	for i := len(s.files.list) - 1; i >= 0; i-- {
		out = append(out, s.files.list[i].meta)
	}
	return out
}

// prune drops the files whose expires_at (Unix seconds) the server's clock
// has reached, as the API deletes them after their retention; s.mu is held.
func (fs *files) prune(now int64) {
	kept := fs.list[:0]
	for _, f := range fs.list {
		if f.meta.ExpiresAt == 0 || f.meta.ExpiresAt > now {
			kept = append(kept, f)
		}
	}
	clear(fs.list[len(kept):])
	fs.list = kept
}

// find returns the index of the file with id, or -1; s.mu is held.
func (fs *files) find(id string) int {
	for i, f := range fs.list {
		if f.meta.ID == id {
			return i
		}
	}
	return -1
}

// uploadFile stores a JSONL file after the checks the real API makes.
func (x *exchange) uploadFile() {
	_, params, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err != nil {
		x.fail(http.StatusBadRequest, "The request is not a multipart form.", "invalid_request_error", "file", "invalid_request")
		return
	}
	var (
		name    string
		content []byte
		purpose string
		found   bool
	)
	mr := multipart.NewReader(bytes.NewReader(x.body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			x.fail(http.StatusBadRequest, "The multipart form is malformed: "+err.Error(), "invalid_request_error", "file", "invalid_request")
			return
		}
		switch part.FormName() {
		case "file":
			name, found = part.FileName(), true
			content, err = io.ReadAll(io.LimitReader(part, x.s.maxFile+1))
		case "purpose":
			var b []byte
			b, err = io.ReadAll(part)
			purpose = string(b)
		}
		if err != nil {
			x.fail(http.StatusBadRequest, "The multipart form is malformed: "+err.Error(), "invalid_request_error", "file", "invalid_request")
			return
		}
	}
	if !found { // the spec validation requires the part; a part without a filename is a plain field
		x.fail(http.StatusBadRequest, "No file was uploaded.", "invalid_request_error", "file", "invalid_request")
		return
	}
	if msg := checkJSONL(content, x.s.maxFile); msg != "" {
		code := "invalid_file_format"
		if int64(len(content)) > x.s.maxFile {
			code = "file_too_large"
		}
		x.fail(http.StatusBadRequest, msg, "invalid_request_error", "file", code)
		return
	}
	x.s.mu.Lock()
	f := x.s.files.add(name, content, x.s.clock.Now().Unix())
	f.Purpose = gen.FilePurpose(purpose)
	meta := *f
	x.s.mu.Unlock()
	x.writeFile(meta)
}

// add stores a file of purpose batch created at now (Unix seconds on the
// server's clock) and returns its metadata, to be changed while s.mu is
// held; s.mu is held.
func (fs *files) add(name string, content []byte, now int64) *gen.FileObject {
	fs.seq++
	f := &storedFile{content: content, meta: gen.FileObject{
		ID: fmt.Sprintf("file-%06d", fs.seq), Object: "file", Filename: name, Bytes: int64(len(content)),
		Purpose: gen.FilePurposeBatch, CreatedAt: now, ExpiresAt: now + fileRetention,
	}}
	fs.list = append(fs.list, f)
	return &f.meta
}

// checkJSONL returns why content is not an acceptable batch file, or "".
func checkJSONL(content []byte, limit int64) string {
	switch {
	case int64(len(content)) > limit:
		return fmt.Sprintf("The file is larger than the limit of %d bytes.", limit)
	case len(bytes.TrimSpace(content)) == 0:
		return "The file is empty."
	case !utf8.Valid(content):
		return "The file is not valid UTF-8."
	}
	line := 0
	for rest := content; len(rest) > 0; {
		line++
		l, after, _ := bytes.Cut(rest, []byte{'\n'})
		rest = after
		if bytes.HasSuffix(l, []byte{'\r'}) {
			return fmt.Sprintf("Line %d ends with CRLF: the file must use LF line endings.", line)
		}
		if len(bytes.TrimSpace(l)) == 0 {
			if len(rest) == 0 {
				break // the final newline
			}
			return fmt.Sprintf("Line %d is empty.", line)
		}
		if !json.Valid(l) {
			return fmt.Sprintf("Line %d is not valid JSON.", line)
		}
	}
	return ""
}

// listFiles answers one page, newest first, after the file the after
// parameter names.
func (x *exchange) listFiles() {
	x.s.mu.Lock()
	x.s.files.prune(x.s.clock.Now().Unix())
	var all []gen.FileObject
	for i := len(x.s.files.list) - 1; i >= 0; i-- {
		all = append(all, x.s.files.list[i].meta)
	}
	x.s.mu.Unlock()
	data, more, ok := page(x, all, func(f gen.FileObject) string { return f.ID }, x.fileNotFound)
	if !ok {
		return
	}
	b, _ := json.Marshal(gen.FileList{Object: "list", Data: data, HasMore: more})
	x.rateLimitHeaders()
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "FileList")
}

// lookupFile returns the file the path names, or answers 404.
func (x *exchange) lookupFile() (*storedFile, bool) {
	id := x.params["file_id"]
	var f *storedFile
	x.s.mu.Lock()
	x.s.files.prune(x.s.clock.Now().Unix())
	if i := x.s.files.find(id); i >= 0 {
		f = x.s.files.list[i]
	}
	x.s.mu.Unlock()
	if f == nil {
		x.fileNotFound(id, "file_id")
		return nil, false
	}
	return f, true
}

func (x *exchange) retrieveFile() {
	if f, ok := x.lookupFile(); ok {
		x.writeFile(f.meta)
	}
}

func (x *exchange) writeFile(meta gen.FileObject) {
	b, _ := json.Marshal(meta)
	x.rateLimitHeaders()
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "FileObject")
}

// retrieveFileContent streams the stored bytes as application/x-ndjson.
func (x *exchange) retrieveFileContent() {
	f, ok := x.lookupFile()
	if !ok {
		return
	}
	x.rateLimitHeaders()
	h := x.w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Content-Length", strconv.Itoa(len(f.content)))
	h.Set(apierror.HeaderXRequestID, x.s.requestID())
	x.w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(x.w, bytes.NewReader(f.content)) // the stored bytes are never changed, only dropped
}

func (x *exchange) deleteFile() {
	id := x.params["file_id"]
	x.s.mu.Lock()
	x.s.files.prune(x.s.clock.Now().Unix())
	i := x.s.files.find(id)
	if i >= 0 {
		x.s.files.list = append(x.s.files.list[:i:i], x.s.files.list[i+1:]...)
	}
	x.s.mu.Unlock()
	if i < 0 {
		x.fileNotFound(id, "file_id")
		return
	}
	b, _ := json.Marshal(gen.FileDeleted{ID: id, Object: "file", Deleted: true})
	x.rateLimitHeaders()
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "FileDeleted")
}

// fileNotFound sends a 404 for an unknown file id.
func (x *exchange) fileNotFound(id, param string) {
	x.fail(http.StatusNotFound, fmt.Sprintf("File %s not found.", id), "not_found_error", param, "file_not_found")
}

// page answers one page of all (in list order) as the API pages lists: up to
// the limit parameter's items (default 20) after the one the after
// parameter names, and whether more follow. An unknown after is answered by
// notFound and reported as !ok.
func page[E any](x *exchange, all []E, id func(E) string, notFound func(id, param string)) (data []E, more, ok bool) {
	q := x.r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v) // the spec validation checked it: 1 to 100
	}
	start := 0
	if after := q.Get("after"); after != "" {
		start = -1
		for i, v := range all {
			if id(v) == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			notFound(after, "after")
			return nil, false, false
		}
	}
	end := min(start+limit, len(all))
	return append([]E{}, all[start:end]...), end < len(all), true
}
