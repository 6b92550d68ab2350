package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sync"

	"github.com/cerebras-go/cerebras/gen"
)

// The operations this file's methods send (operation.go).
var (
	opFilesNew     = &operation{id: "uploadFile", method: "Files.New", create: true}
	opFilesList    = &operation{id: "listFiles", method: "Files.ListPage"}
	opFilesGet     = &operation{id: "retrieveFile", method: "Files.Get"}
	opFilesDelete  = &operation{id: "deleteFile", method: "Files.Delete"}
	opFilesContent = &operation{id: "retrieveFileContent", method: "Files.Content", read: readRaw}
)

// FileService uploads, lists, retrieves, downloads and deletes files
// (/v1/files), such as the JSONL input of a batch.
//
// The Files API is in Private Preview: Cerebras grants access on request.
// Without access every call fails with the API's own error, an *APIError
// (such as a 403 or a 404: errors.Is(err, ErrPermissionDenied) or
// ErrNotFound), exactly as the API sent it.
type FileService struct {
	c *Client
}

// FileNewParams is an upload: the content, the name it gets and its purpose.
type FileNewParams struct {
	// File is the content: JSONL (UTF-8, LF line endings, one JSON value a
	// line), at most 200 MB. It is streamed, never held in memory whole.
	// If it is an io.Seeker, a retry rewinds it to where it was when New
	// was called; otherwise, if it is an io.ReaderAt, every attempt reads
	// it from offset 0 through ReadAt; otherwise the upload is not retried
	// (see Reopen). New does not close it.
	File io.Reader
	// Filename is the name the file gets, such as "requests.jsonl" (the
	// multipart part's filename). Required.
	Filename string
	// Purpose is what the file is for: FilePurposeBatch, the only value
	// today.
	Purpose FilePurpose
	// ExpiresAfter, if not nil, is sent as the expires_after field, a JSON
	// object. The API does not document its shape.
	ExpiresAfter map[string]any
	// Reopen, if set, returns the content anew: for every retry, and for
	// the first attempt when File is nil. A reader it returns that is an
	// io.Closer is closed after its attempt. It makes an upload from a
	// source that cannot rewind (a pipe, a network stream) retryable.
	Reopen func() (io.Reader, error)
}

// FileListParams selects the files List returns.
type FileListParams struct {
	// Limit is how many files a page holds, 1 to 100 (the API's default
	// is 20). List fetches as many pages as the loop consumes.
	Limit *int
	// After, if set, is a file id: the listing starts after it.
	After *string
}

// New uploads a file (POST /v1/files) and returns it. The content is
// streamed as a multipart body, read from params.File as the request is
// sent; New returns only once it has stopped reading params.File, so the
// caller may close or reuse it then.
//
// An upload is a create: it is retried only when it cannot have been
// stored, after a 429, an x-should-retry: true, or a connection cut before
// the server had the whole upload; a 5xx, a timeout or a broken connection
// after it was sent whole is returned at once (check List before uploading
// again). A retry needs the content again (see FileNewParams.File and
// Reopen); without it the error is a *NotReplayedError wrapping the
// failure. The request
// timeout (WithRequestTimeout) bounds every attempt, the upload included:
// raise it for large files on slow links.
func (s *FileService) New(ctx context.Context, params FileNewParams, opts ...Option) (*FileObject, error) {
	u, err := newUpload(params)
	if err != nil {
		return nil, err
	}
	cl, err := s.c.newCall(ctx, opFilesNew, opts)
	if err != nil {
		return nil, err
	}
	body, err := u.body()
	if err != nil {
		return nil, err
	}
	ctx = s.c.observe(ctx, cl, &params)
	resp, err := s.c.sendBuilt(ctx, cl, func(server string) (*http.Request, error) {
		req, err := gen.NewUploadFileRequestWithBody(server, u.contentType(), body)
		if err == nil && u.replayable() {
			req.GetBody = u.body
		}
		return req, err
	})
	u.stop()
	if u.srcErr != nil { // the source failed, not the API: say so, whatever the attempt made of it
		if resp != nil {
			resp.Body.Close()
		}
		err := fmt.Errorf("cerebras: Files.New: reading params.File: %w", u.srcErr)
		cl.end(Outcome{Err: err})
		return nil, err
	}
	return finish[gen.FileObject](cl, resp, err)
}

// Get returns a file's metadata (GET /v1/files/{file_id}). The id is sent
// as one path segment: "", "." and ".." are refused before sending.
func (s *FileService) Get(ctx context.Context, id string, opts ...Option) (*FileObject, error) {
	if err := checkPathID("Files.Get", "file id", id); err != nil {
		return nil, err
	}
	return get[gen.FileObject](s.c, ctx, opFilesGet, opts, func(_ *config, server string) (*http.Request, error) {
		return gen.NewRetrieveFileRequest(server, id)
	})
}

// Delete deletes a file (DELETE /v1/files/{file_id}). The id is sent as one
// path segment: "", "." and ".." are refused before sending.
func (s *FileService) Delete(ctx context.Context, id string, opts ...Option) (*FileDeleted, error) {
	if err := checkPathID("Files.Delete", "file id", id); err != nil {
		return nil, err
	}
	return get[gen.FileDeleted](s.c, ctx, opFilesDelete, opts, func(_ *config, server string) (*http.Request, error) {
		return gen.NewDeleteFileRequest(server, id)
	})
}

// Content returns a file's content (GET /v1/files/{file_id}/content), JSONL,
// as a stream: the body is read as the caller reads it, never buffered, so
// the response size limit (WithMaxResponseSize) does not apply to it. The
// caller must close it. The request timeout bounds each attempt until the
// response headers arrive; after that ctx governs the download. An error
// status is an *APIError, as for any call. The id is sent as one path
// segment: "", "." and ".." are refused before sending.
func (s *FileService) Content(ctx context.Context, id string, opts ...Option) (io.ReadCloser, error) {
	if err := checkPathID("Files.Content", "file id", id); err != nil {
		return nil, err
	}
	cl, err := s.c.newCall(ctx, opFilesContent, opts)
	if err != nil {
		return nil, err
	}
	cl.accept = ndjsonContent
	ctx = s.c.observe(ctx, cl, nil)
	resp, err := s.c.sendBuilt(ctx, cl, func(server string) (*http.Request, error) { return gen.NewRetrieveFileContentRequest(server, id) })
	body, err := fileContent(cl, resp, err)
	cl.end(Outcome{Err: err}) // the content is the caller's to read: the operation ends with its headers
	return body, err
}

// fileContent is the body of a Content call's response, or its error.
func fileContent(cl *call, resp *http.Response, err error) (io.ReadCloser, error) {
	if err != nil {
		return nil, redactErr(err, cl.cfg.apiKey)
	}
	if cl.cfg.responseInto != nil {
		*cl.cfg.responseInto = resp
	}
	if resp.StatusCode >= 400 {
		return nil, apiError(cl, resp)
	}
	return resp.Body, nil
}

// ndjsonContent is the media type of a file's content.
const ndjsonContent = "application/x-ndjson"

// ListPage returns one page of files (GET /v1/files): params.After and
// params.Limit select it; its HasMore says whether another follows, after
// its last file's id. List pages through them all.
func (s *FileService) ListPage(ctx context.Context, params FileListParams, opts ...Option) (*FileList, error) {
	return get[gen.FileList](s.c, ctx, opFilesList, opts, func(_ *config, server string) (*http.Request, error) {
		return gen.NewListFilesRequest(server, &gen.ListFilesParams{Limit: params.Limit, After: params.After})
	})
}

// List returns every file, from params.After on, in the API's order. It
// fetches a page (params.Limit files) when the loop reaches it, not before,
// and none after the loop breaks:
//
//	for f, err := range c.Files.List(ctx, client.FileListParams{}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(f.ID, f.Filename)
//	}
//
// A failed page yields its error once, and ends the sequence.
func (s *FileService) List(ctx context.Context, params FileListParams, opts ...Option) iter.Seq2[*FileObject, error] {
	fetch := func(after *string) ([]gen.FileObject, bool, error) {
		p := params
		p.After = after
		page, err := s.ListPage(ctx, p, opts...)
		if err != nil {
			return nil, false, err
		}
		return page.Data, page.HasMore, nil
	}
	return pages("Files.List", params.After, fetch, func(v *gen.FileObject) string { return v.ID })
}

// upload streams one file's multipart body, once per attempt, from a
// goroutine writing into a pipe that the HTTP transport reads.
type upload struct {
	filename string
	purpose  string
	expires  []byte // expires_after, JSON; nil if not sent
	boundary string // the same for every attempt: Content-Type is set once

	file   io.Reader
	seeker io.Seeker   // file, if it can rewind
	start  int64       // seeker's position when New was called
	at     io.ReaderAt // file, if read by offset (and not a seeker)
	reopen func() (io.Reader, error)

	mu       sync.Mutex
	attempts int
	pr       *io.PipeReader
	done     chan struct{}
	srcErr   error // a read error of the source, not of the connection
}

func newUpload(p FileNewParams) (*upload, error) {
	if p.File == nil && p.Reopen == nil {
		return nil, paramError("params.File", "Files.New: params.File is nil (and there is no params.Reopen)")
	}
	if p.Filename == "" {
		return nil, paramError("params.Filename", "Files.New: params.Filename is empty: the upload needs the file's name, such as \"requests.jsonl\"")
	}
	u := &upload{filename: p.Filename, purpose: string(p.Purpose), file: p.File, reopen: p.Reopen}
	if p.ExpiresAfter != nil {
		b, err := json.Marshal(p.ExpiresAfter)
		if err != nil {
			return nil, &ParamError{Param: "params.ExpiresAfter", Message: "Files.New: encoding params.ExpiresAfter: " + err.Error(), Err: err}
		}
		u.expires = b
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	u.boundary = "cerebras-go-" + hex.EncodeToString(rnd[:])
	switch f := p.File.(type) {
	case io.Seeker:
		// A Seeker that cannot tell its position (a pipe's *os.File) is
		// read once, like a plain reader.
		if pos, err := f.Seek(0, io.SeekCurrent); err == nil {
			u.seeker, u.start = f, pos
		}
	case io.ReaderAt:
		u.at = f
	}
	return u, nil
}

func (u *upload) contentType() string { return "multipart/form-data; boundary=" + u.boundary }

// replayable reports whether a retry can read the content again.
func (u *upload) replayable() bool { return u.reopen != nil || u.seeker != nil || u.at != nil }

// body stops the previous attempt's writer, if any, and starts this
// attempt's: the first call is the request's body, later ones its GetBody.
func (u *upload) body() (io.ReadCloser, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stopLocked()
	if u.srcErr != nil {
		return nil, finalError{fmt.Errorf("reading params.File: %w", u.srcErr)}
	}
	src, closeSrc, err := u.source(u.attempts)
	if err != nil {
		return nil, finalError{err}
	}
	u.attempts++
	pr, pw := io.Pipe()
	done := make(chan struct{})
	u.pr, u.done = pr, done
	go func() {
		defer close(done)
		err := u.write(pw, src)
		closeSrc()
		pw.CloseWithError(err) // nil: the reader sees io.EOF
	}()
	return pr, nil
}

// errUploadStopped ends a writer whose attempt is over.
var errUploadStopped = errors.New("cerebras: upload attempt over")

// stop ends the current attempt's writer and waits for it, so that nothing
// reads the source once New returns.
func (u *upload) stop() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stopLocked()
}

func (u *upload) stopLocked() {
	if u.pr == nil {
		return
	}
	u.pr.CloseWithError(errUploadStopped)
	<-u.done
	u.pr, u.done = nil, nil
}

// source returns attempt n's reader and what to do when it is done.
func (u *upload) source(n int) (io.Reader, func(), error) {
	noop := func() {}
	switch {
	case n == 0 && u.file != nil && u.at != nil:
		return io.NewSectionReader(u.at, 0, 1<<62), noop, nil
	case n == 0 && u.file != nil:
		return u.file, noop, nil
	case u.reopen != nil:
		r, err := u.reopen()
		if err != nil {
			return nil, nil, fmt.Errorf("cerebras: Files.New: params.Reopen: %w", err)
		}
		if r == nil {
			return nil, nil, errors.New("cerebras: Files.New: params.Reopen returned a nil reader")
		}
		if c, ok := r.(io.Closer); ok {
			return r, func() { _ = c.Close() }, nil
		}
		return r, noop, nil
	case u.seeker != nil:
		if _, err := u.seeker.Seek(u.start, io.SeekStart); err != nil {
			return nil, nil, fmt.Errorf("cerebras: Files.New: rewinding params.File: %w", err)
		}
		return u.file, noop, nil
	case u.at != nil:
		return io.NewSectionReader(u.at, 0, 1<<62), noop, nil
	}
	return nil, nil, errors.New("cerebras: Files.New: the content cannot be read again")
}

// write writes the multipart body: purpose and expires_after first, so a
// server can check them before the content arrives, then the file.
func (u *upload) write(w io.Writer, src io.Reader) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(u.boundary); err != nil {
		return err
	}
	if err := mw.WriteField("purpose", u.purpose); err != nil {
		return err
	}
	if u.expires != nil {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", `form-data; name="expires_after"`)
		h.Set("Content-Type", jsonContent)
		part, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if _, err := part.Write(u.expires); err != nil {
			return err
		}
	}
	part, err := mw.CreateFormFile("file", u.filename)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, &sourceReader{r: src, u: u}); err != nil {
		return err
	}
	return mw.Close()
}

// sourceReader records a read error of the source, so that New reports it
// as the caller's, not as a connection failure.
type sourceReader struct {
	r io.Reader
	u *upload
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.u.srcErr = err // read by others only after the writer is done
	}
	return n, err
}
