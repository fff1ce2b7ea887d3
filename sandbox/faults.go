package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// Fault kinds, mixed into the decision hash so that the 503, reset-before and
// reset-after decisions for one request are independent.
const (
	kind5xx         = "5xx"
	kindResetBefore = "reset_before"
	kindResetAfter  = "reset_after"
	kindTokenReset  = "token_reset"
)

// reqKey identifies "this exact request": method, path and query, and a hash
// of the body's content.
type reqKey struct {
	method, uri string
	body        [32]byte
}

// reqID is a request plus how many times the same request was seen before,
// so that a retry of a request that got a fault gets a fresh decision.
type reqID struct {
	reqKey
	n int
}

// identify counts the request and returns its identity. Callers hold s.mu.
// Without a per-request fault nothing reads the count: it is not kept, so
// that a tenant serving millions of creates does not remember each one.
func (s *Server) identify(r *http.Request, body []byte) reqID {
	if !s.cfg.Faults.perRequest() {
		return reqID{}
	}
	k := reqKey{method: r.Method, uri: r.URL.RequestURI(), body: contentHash(r.Header.Get("Content-Type"), body)}
	n := s.seen[k]
	s.seen[k] = n + 1
	return reqID{reqKey: k, n: n}
}

// perRequest: a fault decided per request (roll) is configured, so the
// requests seen must be counted.
func (f Faults) perRequest() bool {
	return f.Error5xx > 0 || f.ResetBefore > 0 || f.ResetAfter > 0 || f.FailVerification > 0
}

// roll decides one fault. It depends only on the seed and the request's
// identity, never on a shared random stream, so the decisions do not depend
// on how concurrent requests interleave.
func (s *Server) roll(kind string, id reqID, frac float64) bool {
	if frac <= 0 {
		return false
	}
	if frac >= 1 {
		return true
	}
	return decide(s.cfg.Faults.Seed, kind, id) < frac
}

// decide maps (seed, kind, request, n) to a uniform number in [0, 1).
func decide(seed int64, kind string, id reqID) float64 {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(seed))
	h.Write(n[:])
	for _, s := range []string{kind, id.method, id.uri} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(id.body[:])
	binary.BigEndian.PutUint64(n[:], uint64(id.n))
	h.Write(n[:])
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// tokenReset decides whether this POST /oauth/token loses its connection
// (Faults.TokenReset*): by its ordinal among the token requests, so a run
// sees the same resets whatever else it sends. Callers hold s.mu.
func (s *Server) tokenReset() bool {
	n := s.tokenSeq
	s.tokenSeq++
	f := s.cfg.Faults
	if n < f.TokenResetSkip {
		return false
	}
	drop := n < f.TokenResetSkip+f.TokenResets ||
		s.roll(kindTokenReset, reqID{reqKey: reqKey{method: http.MethodPost, uri: "/oauth/token"}, n: n}, f.TokenReset)
	if drop {
		s.stats.tokenResets++
	}
	return drop
}

// contentHash hashes a body by content. Multipart boundaries are random per
// request, so a multipart body is hashed part by part (name, file name,
// content) and the same import file gives the same hash on every attempt.
func contentHash(contentType string, body []byte) [32]byte {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return sha256.Sum256(body)
	}
	h := sha256.New()
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sha256.Sum256(body)
		}
		h.Write([]byte(p.FormName() + "\x00" + p.FileName() + "\x00"))
		content, err := io.ReadAll(p)
		if err != nil {
			return sha256.Sum256(body)
		}
		c := sha256.Sum256(content)
		h.Write(c[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// dropConnection closes the client's connection without an answer, like a
// network failure. Without a hijackable connection (HTTP/2, a recorder) it
// aborts the handler, which net/http turns into a reset stream or closed
// connection.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
