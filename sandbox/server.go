package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
)

// Config shapes the tenant. Zero values take the documented defaults, so
// Config{} is a tenant with no faults and no rate limit (what most tests
// want); `a0bulk sandbox` defaults to the Essentials plan instead.
type Config struct {
	Clock clock.Clock // default clock.Real{}
	// Plan gives the tenant the published rate limits of an Auth0 plan
	// (plans.go): per-endpoint buckets with stepped refill, checked global
	// first. It excludes Rate.
	Plan Plan
	// Rate and Burst, without a Plan, make one custom token bucket shared by
	// every /api/v2 request, refilled continuously (docs/ARCHITECTURE.md).
	// Rate 0 (and no Plan) means unlimited; Burst 0 means ceil(Rate) (or 50
	// in the headers of an unlimited tenant).
	Rate  float64
	Burst int
	// JobDelay: an import job is pending for JobDelay, then processing for
	// JobDelay, then done; a verification job is pending for JobDelay, then
	// done. 0 means 2s; a negative value completes jobs at once.
	JobDelay     time.Duration
	MaxJobs      int // concurrent import jobs (pending+processing), default 2
	MaxFileBytes int // users file cap, default 512000; above it 413
	// ClientID and ClientSecret: "" accepts any value.
	ClientID, ClientSecret string
	// Scopes granted in every token; nil means create:users read:users
	// update:users read:connections.
	Scopes        []string
	TokenLifetime time.Duration // default 86400s
	// CustomDomains are the tenant's verified custom domains; nil means
	// ["login.example.com"], an empty non-nil slice means none.
	CustomDomains []string
	// Connections; nil means Username-Password-Authentication (auth0) and
	// google-oauth2 (social).
	Connections []management.Connection
	// EmptyErrorsAs200 makes GET /jobs/{id}/errors answer a job without
	// errors with 200 and `[]` instead of 204: both occur in the wild.
	EmptyErrorsAs200 bool
	// Lean keeps each user in about 100 bytes instead of ~2 KB, for
	// benchmarks of millions of users (lean.go): only what imports, creates
	// and the lookups that settle them need. Reads (GET /users/{id},
	// users-by-email, /sandbox/users) then return users without profile
	// attributes, metadata or extra identities; GET /sandbox/users streams.
	// It keeps no password hashes either.
	Lean bool
	// RefuseHashUpsert fails an import upsert of an existing user that
	// carries password_hash or custom_password_hash, with the per-user
	// error a support article reports ("A custom_password_hash was
	// provided, but the user already has password hash defined"). Without
	// it the hash is left alone and the rest updated, as the bulk-import
	// page says of attributes that cannot be upserted. Auth0's sources
	// differ; a client must work with both (it never sends a hash to an
	// update), and tests that prove so turn this on.
	RefuseHashUpsert bool
	// KeepPasswordHashes makes POST /users and PATCH /users/{id} keep a
	// bcrypt hash (cost 10, as Auth0) of the password they set, for the
	// password-hash export (hashexport.go). Off by default: bcrypt is slow
	// on purpose, and most tests create many users. Imported and seeded
	// hashes are kept either way.
	KeepPasswordHashes bool
	Faults             Faults
}

// Faults injects failures. Every decision is a pure function of the seed and
// of the request (see faults.go), so a run is reproducible.
type Faults struct {
	Seed        int64
	Error5xx    float64 // fraction of /api/v2 requests answered 503 before any side effect
	ResetBefore float64 // fraction of POST/PATCH whose connection is dropped before acting
	ResetAfter  float64 // fraction of POST/PATCH whose connection is dropped after acting
	// Every /api/v2 request in [StormStart, StormStart+StormDuration) after
	// New gets the global rate-limit 429 (another client spent the bucket).
	StormStart, StormDuration time.Duration
	// Another client spends every whole token of the bucket named
	// DrainBucket (a name in /sandbox/stats "buckets", e.g. users_write or
	// global) during [DrainStart, DrainStart+DrainDuration) after New: that
	// bucket alone answers 429 meanwhile, and refills from empty after.
	DrainBucket               string
	DrainStart, DrainDuration time.Duration
	// POST /oauth/token connections are dropped without an answer: after
	// the first TokenResetSkip token requests (so that a refresh mid-run
	// can be hit), the next TokenResets ones and a seeded fraction
	// TokenReset of the rest.
	TokenResetSkip, TokenResets int
	TokenReset                  float64
	FailEveryNthJob             int // every Nth import job ends failed and inserts nobody
	// Every Nth import job runs 3 hours: at 2 hours it times out (failed)
	// after inserting the first third of its users.
	TimeOutEveryNthJob int
	// FailVerification is the fraction of verification-email jobs that end
	// failed (with no status_details) instead of completed.
	FailVerification float64
	// The first ExpireExportLinks requests for an export file find their
	// link expired (403), as if a minute had passed; the next
	// DropExportDownloads are cut off halfway (the connection dropped).
	ExpireExportLinks, DropExportDownloads int
	// HeldSlots import slots are taken by someone else from New for HeldFor.
	HeldSlots int
	HeldFor   time.Duration
}

const (
	defaultJobDelay     = 2 * time.Second
	defaultMaxJobs      = 2
	defaultMaxFileBytes = 512000
	defaultLifetime     = 86400 * time.Second
	unlimitedBurst      = 50
)

// DefaultScopes are granted when Config.Scopes is nil.
var DefaultScopes = []string{"create:users", "read:users", "update:users", "read:connections"}

// Server is the sandbox tenant. It implements http.Handler and is safe for
// concurrent use. All time-based behaviour is computed from Clock.Now() when a
// request arrives, so a fake clock drives it without background goroutines.
type Server struct {
	cfg     Config
	clock   clock.Clock
	start   time.Time
	signKey []byte

	mu        sync.Mutex
	rng       *rand.Rand
	conns     []management.Connection
	users     userStore
	issued    []string // access tokens, for IssuedTokens
	jobs      map[string]*job
	jobOrder  []*job
	importSeq int
	// downloadSeq counts requests for export files, for the faults.
	downloadSeq int
	limits      *limiter // nil: unlimited
	tokenSeq    int      // POST /oauth/token requests seen, for the token resets
	seen        map[reqKey]int
	stats       statsState
}

// Validate reports a Config that New would refuse: an unknown plan, a plan
// with a custom rate, a negative rate, a drained bucket the tenant lacks.
func (cfg Config) Validate() error { return checkLimits(cfg) }

// New builds a tenant from cfg, filling in defaults. It panics if
// cfg.Validate fails: a test asking for a bucket that does not exist would
// otherwise prove nothing.
func New(cfg Config) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.JobDelay == 0 {
		cfg.JobDelay = defaultJobDelay
	}
	if cfg.JobDelay < 0 {
		cfg.JobDelay = 0
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = defaultMaxJobs
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = defaultMaxFileBytes
	}
	if cfg.Scopes == nil {
		cfg.Scopes = DefaultScopes
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = defaultLifetime
	}
	if cfg.CustomDomains == nil {
		cfg.CustomDomains = []string{"login.example.com"}
	}
	if cfg.Burst <= 0 {
		cfg.Burst = unlimitedBurst
		if cfg.Rate > 0 {
			cfg.Burst = max(1, int(cfg.Rate+0.999999))
		}
	}
	seed := uint64(cfg.Faults.Seed)
	s := &Server{
		cfg:     cfg,
		clock:   cfg.Clock,
		start:   cfg.Clock.Now(),
		signKey: randomKey(),
		// Seeded so that ids (connections, jobs, users) are reproducible.
		rng:  rand.New(rand.NewPCG(seed, seed^0x5a4e5f5e1c0b)),
		jobs: map[string]*job{},
		seen: map[reqKey]int{},
	}
	s.users = newFullStore()
	if cfg.Lean {
		s.users = newLeanStore()
	}
	s.limits = newLimiter(cfg, s.start)
	s.stats.init()
	if cfg.Connections != nil {
		s.conns = append([]management.Connection(nil), cfg.Connections...)
	} else {
		s.conns = []management.Connection{
			{ID: "con_" + s.alnum(16), Name: "Username-Password-Authentication", Strategy: "auth0"},
			{ID: "con_" + s.alnum(16), Name: "google-oauth2", Strategy: "google-oauth2"},
		}
	}
	return s
}

// Connections returns the tenant's connections (with their generated ids).
func (s *Server) Connections() []management.Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]management.Connection(nil), s.conns...)
}

// ServeHTTP routes /oauth/token, /api/v2/* and /sandbox/*.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The Date header is the tenant's clock, the one its created_at and job
	// times come from (net/http would stamp the host's clock instead).
	w.Header().Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
	switch {
	case r.URL.Path == "/oauth/token":
		s.serveToken(w, r)
	case len(r.URL.Path) >= 8 && r.URL.Path[:8] == "/api/v2/":
		s.serveAPI(w, r)
	case strings.HasPrefix(r.URL.Path, exportsPath):
		s.serveExport(w, r)
	case r.URL.Path == "/sandbox/users" && r.Method == http.MethodGet && s.cfg.Lean:
		s.streamUsers(w)
	case r.URL.Path == "/sandbox/users" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Users())
	case r.URL.Path == "/sandbox/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case r.URL.Path == hashExportPath && r.Method == http.MethodGet:
		s.serveHashExport(w)
	default:
		writeJSON(w, http.StatusNotFound, apiErr(http.StatusNotFound, "Not Found", ""))
	}
}

// response is what a handler computes under the lock; it is written after
// the lock is released so a slow client never stalls the tenant.
type response struct {
	status int
	body   any // nil: no body
}

func reply(status int, body any) response { return response{status: status, body: body} }

func apiErr(status int, message, code string) *management.APIError {
	return &management.APIError{StatusCode: status, Err: http.StatusText(status), Message: message, ErrorCode: code}
}

func errResp(status int, message, code string) response {
	return reply(status, apiErr(status, message, code))
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "sandbox: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

const alnumChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// alnum and hex draw from the seeded generator; callers hold s.mu (or are New).
func (s *Server) alnum(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnumChars[s.rng.IntN(len(alnumChars))]
	}
	return string(b)
}

func (s *Server) hex(n int) string {
	const hexChars = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hexChars[s.rng.IntN(16)]
	}
	return string(b)
}

// timestamp formats like Auth0: UTC with milliseconds, "2023-01-25T17:48:16.543Z".
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
