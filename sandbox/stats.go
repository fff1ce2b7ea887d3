package sandbox

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Stats is what GET /sandbox/stats returns: what actually happened, for tests
// and people to check a run against.
type Stats struct {
	// Requests counts requests per "METHOD /route/pattern" (ids as {id}).
	Requests                map[string]int `json:"requests"`
	RateLimited             int            `json:"rate_limited"`
	JobLimitRefused         int            `json:"job_limit_refused"`
	ImportJobs              int            `json:"import_jobs"`
	MaxConcurrentImportJobs int            `json:"max_concurrent_import_jobs"`
	ExportJobs              int            `json:"export_jobs"`
	// ExportDownloads counts export files served whole, by their signed
	// links; ExportDownloadsRefused the links refused (expired, bad
	// signature: 403). Downloads cut off by a fault count in Faults.
	ExportDownloads            int                 `json:"export_downloads"`
	ExportDownloadsRefused     int                 `json:"export_downloads_refused"`
	VerificationEmails         []VerificationEmail `json:"verification_emails"`
	CustomDomainHeaders        map[string]int      `json:"custom_domain_headers"`
	CustomDomainViolations     []DomainViolation   `json:"custom_domain_violations"`
	ImplicitVerificationEmails int                 `json:"implicit_verification_emails"`
	Faults                     FaultStats          `json:"faults"`
	Users                      int                 `json:"users"`
	// Limits is the plan whose buckets the tenant has ("free",
	// "essentials"…), "custom" (Config.Rate) or "unlimited".
	Limits string `json:"limits"`
	// Buckets counts, per bucket (plans.go names: global, users_write,
	// other, oauth_token…), the requests it admitted and refused. On
	// Enterprise an admitted request counts in the global bucket and in its
	// endpoint's; a refused one only in the bucket that refused it. Storm
	// 429s are in no bucket (Faults.Storm).
	Buckets map[string]BucketStats `json:"buckets"`
}

// BucketStats is one bucket's figures: its published size and sustained
// rate, and what it did.
type BucketStats struct {
	Burst       int     `json:"burst"`
	PerSecond   float64 `json:"per_second"`
	Admitted    int     `json:"admitted"`
	RateLimited int     `json:"rate_limited"`
}

// VerificationEmail is one accepted POST /jobs/verification-email.
type VerificationEmail struct {
	UserID       string `json:"user_id"`
	JobID        string `json:"job_id"`
	CustomDomain string `json:"custom_domain"`
	// Failed: the job ends failed (Faults.FailVerification): no email.
	Failed bool `json:"failed,omitempty"`
}

// DomainViolation is an Auth0-Custom-Domain header sent where the official
// SDKs never send it.
type DomainViolation struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Value  string `json:"value"`
}

// FaultStats counts the faults injected.
type FaultStats struct {
	Error5xx    int `json:"5xx"`
	ResetBefore int `json:"reset_before"`
	ResetAfter  int `json:"reset_after"`
	Storm       int `json:"storm"`       // 429s of the storm window
	TokenResets int `json:"token_reset"` // dropped POST /oauth/token
	// ExportDrops: export downloads cut off halfway (DropExportDownloads).
	ExportDrops int `json:"export_drops"`
}

type statsState struct {
	requests         map[string]int
	rateLimited      int
	jobLimit         int
	importJobs       int
	maxConcurrent    int
	exportJobs       int
	downloads        int
	downloadsRefused int
	downloadsDropped int
	verifications    []VerificationEmail
	domainHeaders    map[string]int
	violations       []DomainViolation
	implicit         int
	faults5xx        int
	resetBefore      int
	resetAfter       int
	storm            int
	tokenResets      int
}

func (st *statsState) init() {
	st.requests = map[string]int{}
	st.domainHeaders = map[string]int{}
}

// maxViolations bounds memory for a client that sends the header everywhere.
const maxViolations = 1000

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceJobs(s.clock.Now())
	st := &s.stats
	limits, buckets := s.limits.bucketStats()
	return Stats{
		Requests:                   maps.Clone(st.requests),
		RateLimited:                st.rateLimited,
		JobLimitRefused:            st.jobLimit,
		ImportJobs:                 st.importJobs,
		MaxConcurrentImportJobs:    st.maxConcurrent,
		ExportJobs:                 st.exportJobs,
		ExportDownloads:            st.downloads,
		ExportDownloadsRefused:     st.downloadsRefused,
		VerificationEmails:         append([]VerificationEmail{}, st.verifications...),
		CustomDomainHeaders:        maps.Clone(st.domainHeaders),
		CustomDomainViolations:     append([]DomainViolation{}, st.violations...),
		ImplicitVerificationEmails: st.implicit,
		Faults: FaultStats{Error5xx: st.faults5xx, ResetBefore: st.resetBefore, ResetAfter: st.resetAfter,
			Storm: st.storm, TokenResets: st.tokenResets, ExportDrops: st.downloadsDropped},
		Users:   s.users.count(),
		Limits:  limits,
		Buckets: buckets,
	}
}

const customDomainHeader = "Auth0-Custom-Domain"

// hostnameRE: dot-separated DNS labels with an alphabetic top-level label.
var hostnameRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)

// customDomain validates the Auth0-Custom-Domain header on the paths that
// accept it and records it as a violation elsewhere (still serving the
// request, as Auth0 would ignore it). A zero status means go on. Callers
// hold s.mu.
func (s *Server) customDomain(c *call, key string) response {
	if _, present := c.r.Header[http.CanonicalHeaderKey(customDomainHeader)]; !present {
		return response{}
	}
	if !acceptsCustomDomain(c.r.Method, c.r.URL.Path) {
		if len(s.stats.violations) < maxViolations {
			s.stats.violations = append(s.stats.violations, DomainViolation{Method: c.r.Method, Path: c.r.URL.Path, Value: c.domain})
		}
		return response{}
	}
	s.stats.domainHeaders[key]++
	if len(c.domain) > 253 || !hostnameRE.MatchString(c.domain) {
		return errResp(http.StatusBadRequest, "The `auth0-custom-domain` HTTP header has an invalid format.", "")
	}
	if !slices.ContainsFunc(s.cfg.CustomDomains, func(d string) bool { return strings.EqualFold(d, c.domain) }) {
		return errResp(http.StatusBadRequest, "The custom domain does not exist for the tenant.", "")
	}
	return response{}
}
