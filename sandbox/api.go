package sandbox

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// call is one /api/v2 request as the handlers see it.
type call struct {
	r      *http.Request
	body   []byte
	id     string // the {id} path segment, if the route has one
	now    time.Time
	domain string // Auth0-Custom-Domain header, "" when absent
}

type route struct {
	method  string
	pattern string // segments; "{id}" matches one non-empty segment
	// scope is what the route takes: any one of these comma-separated
	// scopes, as the Management API reference lists them and as its 403
	// names them ("expected any of: create:users,read:users").
	scope  string
	handle func(*Server, *call) response
}

var routes = []route{
	{"GET", "/api/v2/connections", "read:connections", (*Server).getConnections},
	{"POST", "/api/v2/jobs/users-imports", "create:users", (*Server).postImport},
	{"POST", "/api/v2/jobs/verification-email", "update:users", (*Server).postVerification},
	{"POST", "/api/v2/jobs/users-exports", "read:users", (*Server).postExport},
	{"GET", "/api/v2/jobs/{id}", "create:users,read:users", (*Server).getJob},
	{"GET", "/api/v2/jobs/{id}/errors", "create:users,read:users", (*Server).getJobErrors},
	{"POST", "/api/v2/users", "create:users", (*Server).postUser},
	{"GET", "/api/v2/users/{id}", "read:users", (*Server).getUser},
	{"PATCH", "/api/v2/users/{id}", "update:users", (*Server).patchUser},
	{"GET", "/api/v2/users-by-email", "read:users", (*Server).getUsersByEmail},
}

// customDomainRoutes accept the Auth0-Custom-Domain header (auth0-facts.md).
// auth0.net also sends it on users-imports, but every other SDK strips it
// there, so the sandbox records that use as a violation.
var customDomainRoutes = []string{
	"POST /api/v2/jobs/verification-email",
	"POST /api/v2/users",
	"PATCH /api/v2/users/{id}",
	"POST /api/v2/tickets/email-verification",
	"POST /api/v2/tickets/password-change",
	"POST /api/v2/organizations/{id}/invitations",
	"POST /api/v2/guardian/enrollments/ticket",
	"POST /api/v2/self-service-profiles/{id}/sso-ticket",
}

// matchPattern reports whether path fits pattern and returns the {id} value.
func matchPattern(pattern, path string) (string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return "", false
	}
	id := ""
	for i, p := range ps {
		if p == "{id}" {
			if xs[i] == "" {
				return "", false
			}
			id = xs[i]
			continue
		}
		if p != xs[i] {
			return "", false
		}
	}
	return id, true
}

func findRoute(method, path string) (*route, string) {
	for i := range routes {
		rt := &routes[i]
		if rt.method != method {
			continue
		}
		if id, ok := matchPattern(rt.pattern, path); ok {
			return rt, id
		}
	}
	return nil, ""
}

func acceptsCustomDomain(method, path string) bool {
	for _, k := range customDomainRoutes {
		m, p, _ := strings.Cut(k, " ")
		if _, ok := matchPattern(p, path); ok && m == method {
			return true
		}
	}
	return false
}

// bodyLimit bounds what the sandbox reads of any request: enough for a
// users file at the cap plus the multipart framing.
func (s *Server) bodyLimit() int64 { return int64(s.cfg.MaxFileBytes) + 1<<20 }

// serveAPI applies, in order: request count, rate limit (storm, buckets),
// authentication, routing and scope, the 503 and reset-before faults, the
// custom-domain header, the handler, then the reset-after fault.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.bodyLimit()+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(http.StatusBadRequest, "Could not read the request body", ""))
		return
	}
	now := s.clock.Now()
	rt, id := findRoute(r.Method, r.URL.Path)
	key := r.Method + " " + r.URL.Path
	if rt != nil {
		key = rt.method + " " + rt.pattern
	}

	s.mu.Lock()
	s.advanceJobs(now)
	s.stats.requests[key]++
	lim := s.rateLimit(now, r.Method, r.URL.Path)
	lim.setHeaders(w.Header())
	if !lim.ok {
		s.stats.rateLimited++
		s.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, rateLimitBody(lim.message))
		return
	}
	res, act, rid := s.gate(r, rt, body, now)
	if act == actReset {
		s.mu.Unlock()
		dropConnection(w)
		return
	}
	if act == actHandle {
		c := &call{r: r, body: body, id: id, now: now, domain: r.Header.Get(customDomainHeader)}
		res = s.customDomain(c, key)
		if res.status == 0 {
			res = rt.handle(s, c)
		}
		if s.resetAfter(rid) {
			s.mu.Unlock()
			dropConnection(w)
			return
		}
	}
	s.mu.Unlock()
	writeJSON(w, res.status, res.body)
}

type action int

const (
	actRespond action = iota // the gate produced the response
	actReset                 // drop the connection
	actHandle                // run the route's handler
)

// gate authenticates and applies the pre-handler faults. Callers hold s.mu.
func (s *Server) gate(r *http.Request, rt *route, body []byte, now time.Time) (response, action, reqID) {
	claims, res := s.authenticate(r, now)
	if res.status != 0 {
		return res, actRespond, reqID{}
	}
	if int64(len(body)) > s.bodyLimit() {
		return errResp(http.StatusRequestEntityTooLarge, tooLargeMessage(s.cfg.MaxFileBytes), ""), actRespond, reqID{}
	}
	if rt == nil {
		return errResp(http.StatusNotFound, "Not Found", ""), actRespond, reqID{}
	}
	if !claims.hasAny(strings.Split(rt.scope, ",")) {
		return errResp(http.StatusForbidden, "Insufficient scope, expected any of: "+rt.scope, "insufficient_scope"), actRespond, reqID{}
	}
	// Only requests that got this far are counted, so that rate-limit 429s
	// (whose number depends on wall-clock timing) do not shift the decisions.
	rid := s.identify(r, body)
	if s.roll(kind5xx, rid, s.cfg.Faults.Error5xx) {
		s.stats.faults5xx++
		return errResp(http.StatusServiceUnavailable, "The service is temporarily unavailable, please try again later", ""), actRespond, rid
	}
	if isWrite(r.Method) && s.roll(kindResetBefore, rid, s.cfg.Faults.ResetBefore) {
		s.stats.resetBefore++
		return response{}, actReset, rid
	}
	return response{}, actHandle, rid
}

func (s *Server) resetAfter(rid reqID) bool {
	if isWrite(rid.method) && s.roll(kindResetAfter, rid, s.cfg.Faults.ResetAfter) {
		s.stats.resetAfter++
		return true
	}
	return false
}

func isWrite(method string) bool { return method == http.MethodPost || method == http.MethodPatch }

// rateLimitBody is the Management API's rate-limit 429: the global message
// (recorded) or an endpoint group's (plans.go).
func rateLimitBody(message string) any {
	return apiErr(http.StatusTooManyRequests, message, "too_many_requests")
}

func tooLargeMessage(limit int) string {
	return "Payload content length greater than maximum allowed: " + strconv.Itoa(limit)
}
