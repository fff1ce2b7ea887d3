package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// claims is the payload of a sandbox access token. The token is a real JWT
// (HS256 with a per-process key) so that `a0bulk check` can decode `scope`
// the way it would decode an Auth0 token.
type claims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Aud   string `json:"aud"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
	Scope string `json:"scope"`
	Gty   string `json:"gty"`
	Azp   string `json:"azp"`
	Jti   string `json:"jti"`
}

// hasAny reports whether the token carries one of scopes.
func (c *claims) hasAny(scopes []string) bool {
	granted := strings.Fields(c.Scope)
	return slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(granted, s) })
}

const jwtHeader = `{"alg":"HS256","typ":"JWT","kid":"a0bulk-sandbox"}`

var b64 = base64.RawURLEncoding

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails on supported platforms
	return k
}

func (s *Server) sign(c claims) string {
	p, _ := json.Marshal(c) // claims always encodes
	unsigned := b64.EncodeToString([]byte(jwtHeader)) + "." + b64.EncodeToString(p)
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(unsigned))
	return unsigned + "." + b64.EncodeToString(m.Sum(nil))
}

func (s *Server) verify(token string) (*claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return nil, false
	}
	p, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c claims
	if json.Unmarshal(p, &c) != nil {
		return nil, false
	}
	return &c, true
}

// tokenError is the authentication API's error shape (not the Management API's).
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken is POST /oauth/token, client-credentials grant only.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, apiErr(http.StatusNotFound, "Not Found", ""))
		return
	}
	p, err := tokenParams(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, tokenError{"invalid_request", "Could not parse the request body"})
		return
	}
	// x/oauth2 may send the client credentials as HTTP Basic auth.
	if id, secret, ok := r.BasicAuth(); ok {
		p["client_id"], p["client_secret"] = id, secret
	}
	now := s.clock.Now()
	s.mu.Lock()
	s.stats.requests["POST /oauth/token"]++
	if s.tokenReset() {
		s.mu.Unlock()
		dropConnection(w)
		return
	}
	lim, limited := s.limits.admitToken(now)
	if !lim.ok {
		s.stats.rateLimited++
	}
	s.mu.Unlock()
	if limited {
		lim.setHeaders(w.Header())
	}
	if !lim.ok {
		// The Authentication API's error shape; its 429 body is not recorded.
		writeJSON(w, http.StatusTooManyRequests, tokenError{"too_many_requests", lim.message})
		return
	}

	if gt := p["grant_type"]; gt != "client_credentials" {
		writeJSON(w, http.StatusForbidden, tokenError{"unauthorized_client", "Grant type '" + gt + "' not allowed for the client."})
		return
	}
	if (s.cfg.ClientID != "" && p["client_id"] != s.cfg.ClientID) ||
		(s.cfg.ClientSecret != "" && p["client_secret"] != s.cfg.ClientSecret) {
		writeJSON(w, http.StatusUnauthorized, tokenError{"access_denied", "Unauthorized"})
		return
	}
	aud := p["audience"]
	if aud != "https://"+r.Host+"/api/v2/" && aud != "http://"+r.Host+"/api/v2/" {
		writeJSON(w, http.StatusForbidden, tokenError{"access_denied", "Service not enabled within domain: " + aud})
		return
	}
	scope := strings.Join(s.cfg.Scopes, " ")
	lifetime := int64(s.cfg.TokenLifetime / time.Second)
	tok := s.sign(claims{
		Iss: "https://" + r.Host + "/", Sub: p["client_id"] + "@clients", Aud: aud,
		Iat: now.Unix(), Exp: now.Unix() + lifetime, Scope: scope,
		Gty: "client-credentials", Azp: p["client_id"], Jti: b64.EncodeToString(randomKey()[:12]),
	})
	s.mu.Lock()
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, management.TokenResponse{
		AccessToken: tok, ExpiresIn: int(lifetime), Scope: scope, TokenType: "Bearer",
	})
}

// IssuedTokens lists every access token the tenant has issued, so that a
// test can prove none of them is ever printed, logged or written. It is not
// served over HTTP.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

func tokenParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if sv, ok := v.(string); ok {
				out[k] = sv
			}
		}
		return out, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k := range r.PostForm {
		out[k] = r.PostForm.Get(k)
	}
	return out, nil
}

// unauthorized401 carries the `attributes` member Auth0 adds to JWT errors.
type unauthorized401 struct {
	management.APIError
	Attributes map[string]string `json:"attributes,omitempty"`
}

func unauthorized(message string, withAttributes bool) response {
	body := unauthorized401{APIError: *apiErr(http.StatusUnauthorized, message, "")}
	if withAttributes {
		body.Attributes = map[string]string{"error": message}
	}
	return reply(http.StatusUnauthorized, body)
}

// ExpiredTokenMessage is the 401 message for an expired token.
const ExpiredTokenMessage = "Expired token received for JSON Web Token validation"

// authenticate checks the bearer token. A zero response status means success.
func (s *Server) authenticate(r *http.Request, now time.Time) (*claims, response) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, unauthorized("Missing authentication", false)
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, unauthorized("Bad HTTP authentication header format", false)
	}
	c, ok := s.verify(strings.TrimSpace(tok))
	if !ok {
		return nil, unauthorized("Invalid token", true)
	}
	if now.Unix() >= c.Exp {
		return nil, unauthorized(ExpiredTokenMessage, true)
	}
	return c, response{}
}
