package throttle

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// hangUpOnce reads the first request in full, then drops the connection
// without an answer: the client wrote everything and learns nothing.
func hangUpOnce(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if seen.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

// zeroWait: backoff draws 0, so the real network needs no clock driving.
func zeroWait() Options {
	return Options{Clock: clock.NewFake(t0), Rate: 1000, Burst: 100, MaxRetries: 2, Rand: func() float64 { return 0 }}
}

func TestRealConnectionDroppedAfterWrite(t *testing.T) {
	t.Run("POST: unknown fate, sent once", func(t *testing.T) {
		srv, seen := hangUpOnce(t)
		tr := New(&http.Transport{}, zeroWait())
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/users", strings.NewReader(`{"email":"a@b.c"}`))
		_, err := tr.RoundTrip(req)
		var fate *UnknownFateError
		if !errors.As(err, &fate) {
			t.Fatalf("err %v, want *UnknownFateError", err)
		}
		if !isTransportError(fate.Err) {
			t.Errorf("cause %v not classified as a transport error", fate.Err)
		}
		if n := seen.Load(); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})
	t.Run("GET: retried", func(t *testing.T) {
		srv, seen := hangUpOnce(t)
		tr := New(&http.Transport{}, zeroWait())
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v2/users", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode != http.StatusCreated || seen.Load() != 2 {
			t.Errorf("status %d after %d requests, want 201 after 2", resp.StatusCode, seen.Load())
		}
	})
}

func TestRealConnectionRefusedBeforeWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: the dial fails before a byte is written
	// Waited out for 2s of continuous refusal: 125ms, 250ms, 500ms, 1s of
	// backoff, then what is left (125ms), then the budget is spent.
	clk := clock.NewFake(t0)
	tr := New(&http.Transport{}, Options{Clock: clk, Rate: 1000, Burst: 100, MaxWait: 2 * time.Second, Rand: func() float64 { return 0.5 }})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v2/users", strings.NewReader(`{}`))
	_, waits, err := drive(t, clk, tr, req)
	var fate *UnknownFateError
	var refused *RefusedError
	if !errors.As(err, &refused) || errors.As(err, &fate) {
		t.Fatalf("err %v, want a *RefusedError: nothing was sent", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err %v does not carry the connection failure", err)
	}
	want := []time.Duration{125 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 125 * time.Millisecond}
	if !reflect.DeepEqual(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if st := tr.Stats(); st.Requests != 6 || st.Retries != 5 {
		t.Errorf("stats %+v, want 6 attempts", st)
	}
}
