package simtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// Transport hands each request to a handler in the caller's goroutine,
// without sockets: a request in flight is then a goroutine running (or
// blocked on the tenant's lock, or on the clock), never one waiting on the
// network, which Run could not tell from a goroutine with nothing to
// do. Each way takes latency on the clock: the tenant sees a request that
// long after it is sent, and the client its answer that long after.
type Transport struct {
	Handler http.Handler
	Clock   clock.Clock
	Latency time.Duration // one way
}

func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.travel(req); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:1"
	in.Body = http.NoBody
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		in.Body = io.NopCloser(bytes.NewReader(body))
		in.ContentLength = int64(len(body))
	}
	// The request has reached the tenant: a connection lost from now on
	// may have let it act (httptrace's WroteRequest, as net/http says it).
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	rec := httptest.NewRecorder()
	if dropped := serve(t.Handler, rec, in); dropped {
		// The tenant closed the connection without an answer, as the
		// sandbox's faults do (http.ErrAbortHandler): what a client reading
		// the response of a reset connection gets.
		return nil, &url.Error{Op: req.Method, URL: req.URL.Redacted(), Err: io.ErrUnexpectedEOF}
	}
	resp := rec.Result()
	resp.Request = req
	if err := t.travel(req); err != nil {
		return nil, err
	}
	return resp, nil
}

// serve runs h, reporting whether it aborted the connection (panicked with
// http.ErrAbortHandler, which net/http's server recovers).
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (dropped bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			dropped = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// travel waits one way's latency, or until the request is cancelled.
func (t Transport) travel(req *http.Request) error {
	if t.Latency <= 0 {
		return nil
	}
	select {
	case <-t.Clock.After(t.Latency):
		return nil
	case <-req.Context().Done():
		return req.Context().Err()
	}
}
