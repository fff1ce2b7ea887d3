package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// checkAPI is what `check` needs of the Management API client.
type checkAPI interface {
	TokenInfo(ctx context.Context) (*management.TokenInfo, error)
	ConnectionByName(ctx context.Context, name string) (*management.Connection, error)
	SendVerificationEmail(ctx context.Context, r management.VerificationEmailRequest) (*management.Job, error)
	Headroom() (limit, remaining int, reset time.Time, ok bool)
}

// checker runs the preflight checks in order; a failure that makes the later
// checks meaningless turns them into SKIP lines rather than noise.
type checker struct {
	api  checkAPI
	opts checkOptions
	now  func() time.Time // default time.Now
}

// probeConnection is looked up when no --connection is given: the answer
// (even a 404 or 403) carries the rate-limit headers and proves the API answers.
const probeConnection = "a0bulk-check-probe"

// checkUserID cannot exist: a verification email to it is refused with 404
// once the custom-domain header has been accepted, so nothing is sent.
const checkUserID = "auth0|a0bulk-check-nonexistent"

const (
	checkDomain       = "domain"
	checkToken        = "token"
	checkScopes       = "scopes"
	checkConnection   = "connection"
	checkHeadroom     = "rate limit"
	checkCustomDomain = "custom domain"
)

func (k *checker) run(ctx context.Context) []checkResult {
	if k.now == nil {
		k.now = time.Now
	}
	static := k.opts.tenant.Token != ""
	info, tokErr := k.api.TokenInfo(ctx)
	var te *management.TokenError
	if !static && errors.As(tokErr, &te) {
		return k.tokenRefused(te)
	}

	// One API read, always: it proves the API answers and the token is
	// accepted, and its answer carries the x-ratelimit headers.
	name := k.opts.Connection
	if name == "" {
		name = probeConnection
	}
	conn, connErr := k.api.ConnectionByName(ctx, name)
	apiErr, isAPI := management.AsAPIError(connErr)
	answered := connErr == nil || isAPI || errors.Is(connErr, management.ErrConnectionNotFound)

	var out []checkResult
	if !answered {
		out = append(out, checkResult{Name: checkDomain, Status: statusFail,
			Detail: fmt.Sprintf("%s/api/v2 did not answer: %v", k.opts.tenant.Domain, connErr),
			Fix:    "check --domain (the tenant's own domain, e.g. acme.eu.auth0.com), DNS, and any proxy or firewall between here and Auth0"})
		return append(out, skipped(k.later(checkToken)...)...)
	}
	how := "the API answered"
	if !static {
		how = "the token endpoint and the API answered"
	}
	out = append(out, checkResult{Name: checkDomain, Status: statusPass, Detail: fmt.Sprintf("%s: %s", k.opts.tenant.Domain, how)})

	if isAPI && apiErr.IsUnauthorized() {
		fix := "the token is expired, revoked or for another tenant: get a new one, or use --client-id with a secret"
		if !static {
			fix = "the token's audience must be the tenant's API (https://DOMAIN/api/v2/): drop --audience, and give the tenant's canonical domain as --domain"
		}
		out = append(out, checkResult{Name: checkToken, Status: statusFail, Detail: "the API refused the token: " + apiErr.Error(), Fix: fix})
		return append(out, skipped(k.later(checkScopes)...)...)
	}
	out = append(out, k.tokenLine(info, static))
	out = append(out, k.scopesLine(info, tokErr, apiErr))
	if line, ok := k.connectionLine(conn, connErr); ok {
		out = append(out, line)
	}
	out = append(out, k.headroomLine())
	if k.opts.tenant.CustomDomain != "" {
		out = append(out, k.customDomainLine(ctx))
	}
	return out
}

// later names the checks from first on, as they would have run.
func (k *checker) later(first string) []string {
	all := []string{checkDomain, checkToken, checkScopes, checkConnection, checkHeadroom}
	if k.opts.tenant.CustomDomain != "" {
		all = append(all, checkCustomDomain)
	}
	for i, n := range all {
		if n == first {
			return all[i:]
		}
	}
	return nil
}

func skipped(names ...string) []checkResult {
	out := make([]checkResult, len(names))
	for i, n := range names {
		out[i] = checkResult{Name: n, Status: statusSkip, Detail: "not checked: an earlier check failed"}
	}
	return out
}

// tokenRefused reports a failed client-credentials grant: no HTTP answer
// means the domain is wrong or unreachable; an answer means the tenant
// refused the application.
func (k *checker) tokenRefused(te *management.TokenError) []checkResult {
	if te.StatusCode == 0 {
		return append([]checkResult{{Name: checkDomain, Status: statusFail,
			Detail: fmt.Sprintf("%s/oauth/token did not answer: %s", k.opts.tenant.Domain, te.Message),
			Fix:    "check --domain (the tenant's own domain, e.g. acme.eu.auth0.com), DNS, and any proxy or firewall between here and Auth0"}},
			skipped(k.later(checkToken)...)...)
	}
	out := []checkResult{
		{Name: checkDomain, Status: statusPass, Detail: fmt.Sprintf("%s: the token endpoint answered (HTTP %d)", k.opts.tenant.Domain, te.StatusCode)},
		{Name: checkToken, Status: statusFail, Detail: "no token: " + te.Error(), Fix: tokenFix(te)},
	}
	return append(out, skipped(k.later(checkScopes)...)...)
}

// tokenFix turns the Authentication API's refusal into what to change.
func tokenFix(te *management.TokenError) string {
	msg := strings.ToLower(te.Message)
	switch {
	case te.Code == "unauthorized_client" || strings.Contains(msg, "grant type"):
		return "enable the Client Credentials grant: Auth0 Dashboard → Applications → your application → Settings → Advanced Settings → Grant Types"
	case strings.Contains(msg, "not enabled within domain"):
		return "give the tenant's canonical domain (e.g. acme.eu.auth0.com, not a custom domain) as --domain, and do not override --audience"
	case te.StatusCode == http.StatusForbidden || strings.Contains(msg, "not authorized"):
		return "authorize the application for the Management API: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → switch your application on"
	case te.StatusCode == http.StatusUnauthorized || te.Code == "access_denied" || te.Code == "invalid_client":
		return "check --client-id and the client secret (--client-secret-file, AUTH0_CLIENT_SECRET): the tenant refused them; a rotated secret must be updated here too"
	}
	return "run again with --verbose; if it persists, check the tenant's status page"
}

func (k *checker) tokenLine(info *management.TokenInfo, static bool) checkResult {
	r := checkResult{Name: checkToken, Status: statusPass}
	if static {
		r.Detail = "given with --token and accepted by the API"
	} else {
		r.Detail = fmt.Sprintf("issued to client %s", k.opts.tenant.ClientID)
	}
	if info != nil && !info.Expiry.IsZero() {
		left := info.Expiry.Sub(k.now()).Round(time.Minute)
		r.Detail += fmt.Sprintf(", expires %s (in %s)", info.Expiry.UTC().Format(time.RFC3339), left)
		if static && left < time.Hour {
			r.Status = statusWarn
			r.Fix = "the token expires soon and a0bulk cannot renew a --token: use --client-id with a secret for long runs"
		}
	}
	return r
}

func (k *checker) scopesLine(info *management.TokenInfo, tokErr error, probe *management.APIError) checkResult {
	r := checkResult{Name: checkScopes}
	if info == nil {
		r.Status = statusWarn
		r.Detail = fmt.Sprintf("cannot read the token's scopes (%v); the API will name any missing scope when it is used", tokErr)
		r.Fix = fmt.Sprintf("a0bulk %s needs %s", k.opts.For, strings.Join(scopeNames(commandScopes[k.opts.For]), " "))
		return r
	}
	v := judgeScopes(k.opts.For, info.Scopes)
	granted := strings.Join(info.Scopes, " ")
	if granted == "" {
		granted = "none"
	}
	switch {
	case len(v.Missing) > 0:
		r.Status = statusFail
		r.Detail = fmt.Sprintf("a0bulk %s needs %s; granted: %s", k.opts.For, describeNeeds(v.Missing), granted)
		r.Fix = grantScopesFix(scopeNames(v.Missing), k.opts.tenant.ClientID)
	case len(v.MissingOptional) > 0:
		r.Status = statusWarn
		r.Detail = fmt.Sprintf("enough for a0bulk %s, but not for %s; granted: %s", k.opts.For, describeNeeds(v.MissingOptional), granted)
		r.Fix = grantScopesFix(scopeNames(v.MissingOptional), k.opts.tenant.ClientID) + " (only if you need those)"
	case len(v.Unused) > 0:
		r.Status = statusWarn
		r.Detail = fmt.Sprintf("enough for a0bulk %s; also granted %s, which a0bulk never uses", k.opts.For, strings.Join(v.Unused, " "))
		r.Fix = "least privilege: untick them for this application (Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications)"
	default:
		r.Status = statusPass
		r.Detail = fmt.Sprintf("granted %s: enough for a0bulk %s", granted, k.opts.For)
	}
	if missing, ok := missingScopeOf(probe); ok && info.HasScope(missing) {
		// The token claims the scope but the API disagrees: trust the API.
		r.Status = statusFail
		r.Detail = "the API refused the token for lacking " + missing
		r.Fix = grantScopesFix([]string{missing}, k.opts.tenant.ClientID)
	}
	return r
}

// connectionLine reports the --connection lookup; ok is false when there is
// nothing to say (verify needs no connection and none was given).
func (k *checker) connectionLine(conn *management.Connection, err error) (checkResult, bool) {
	r := checkResult{Name: checkConnection}
	name := k.opts.Connection
	if name == "" {
		if k.opts.For == "verify" {
			return r, false
		}
		r.Status = statusWarn
		r.Detail = "not checked: no --connection given"
		r.Fix = fmt.Sprintf("run a0bulk check --for %s --connection NAME with the connection you will use", k.opts.For)
		return r, true
	}
	r.Status = statusFail
	switch {
	case errors.Is(err, management.ErrConnectionNotFound):
		r.Detail = fmt.Sprintf("the tenant has no connection named %q", name)
		r.Fix = "give the connection's exact name (case matters), as in Auth0 Dashboard → Authentication → Database"
	case err != nil:
		r.Detail = fmt.Sprintf("could not look up %q: %v", name, err)
		if missing, ok := missingScopeOf(asAPIError(err)); ok {
			r.Fix = grantScopesFix([]string{missing}, k.opts.tenant.ClientID)
		}
	case !conn.IsDatabase():
		r.Detail = fmt.Sprintf("%q (%s) has strategy %q: users can be imported or created only in a database connection (strategy auth0)", conn.Name, conn.ID, conn.Strategy)
		r.Fix = "choose a database connection (Auth0 Dashboard → Authentication → Database); social and enterprise users are created by their first login"
	default:
		r.Status = statusPass
		r.Detail = fmt.Sprintf("%q (%s) is a database connection", conn.Name, conn.ID)
	}
	return r, true
}

func (k *checker) headroomLine() checkResult {
	r := checkResult{Name: checkHeadroom}
	limit, remaining, reset, ok := k.api.Headroom()
	if !ok {
		r.Status = statusWarn
		r.Detail = "the answer had no x-ratelimit headers: a0bulk will pace itself at a cautious default"
		r.Fix = "set --rate to the tenant's Management API limit (requests per second) if you know it"
		return r
	}
	r.Detail = fmt.Sprintf("bucket of %d requests, %d left after this check", limit, remaining)
	if remaining <= 0 && !reset.IsZero() {
		r.Detail += fmt.Sprintf(", next refill %s", reset.UTC().Format(time.RFC3339))
	}
	switch {
	case remaining <= 0:
		r.Status = statusWarn
		r.Detail += ": the bucket is empty, something else is spending this tenant's limit right now"
		r.Fix = "find the other client (Dashboard → Monitoring → Logs) or run when it is quiet; a0bulk will wait for the limit, but slowly"
	case remaining < limit/2:
		r.Status = statusWarn
		r.Detail += ": other clients are using the limit"
		r.Fix = "a0bulk shares the limit and will go slower than the estimate; run when the tenant is quiet, or cap a0bulk with --rate to leave room for them"
	default:
		r.Status = statusPass
	}
	// What the limit means in time: the planning figure an operator needs.
	// The same estimate as create --dry-run, so the two never disagree.
	rate, how := estimateRate(k.opts.tenant.Rate, k.api)
	per10k := (time.Duration(10000/rate*float64(time.Second)) + time.Second - 1).Truncate(time.Second)
	r.Detail += fmt.Sprintf("; per-user creates would go at about %.3g/s (%s): %s per 10,000 users", rate, how, per10k)
	return r
}

func (k *checker) customDomainLine(ctx context.Context) checkResult {
	r := checkResult{Name: checkCustomDomain}
	cd := k.opts.tenant.CustomDomain
	_, err := k.api.SendVerificationEmail(ctx, management.VerificationEmailRequest{UserID: checkUserID})
	e := asAPIError(err)
	switch {
	case err == nil:
		r.Status = statusWarn
		r.Detail = fmt.Sprintf("%s accepted, but a user %s exists and was sent a verification email", cd, checkUserID)
	case e != nil && e.IsNotFound():
		r.Status = statusPass
		r.Detail = fmt.Sprintf("%s accepted (the test verification email went to a user that does not exist, so nothing was sent)", cd)
	case e != nil && refusesCustomDomain(e):
		r.Status = statusFail
		r.Detail = fmt.Sprintf("%s refused: %s", cd, e.Message)
		r.Fix = "give one of the tenant's verified custom domains, host name only (e.g. login.acme.com): Auth0 Dashboard → Branding → Custom Domains"
	case e != nil:
		if missing, ok := missingScopeOf(e); ok {
			r.Status = statusWarn
			r.Detail = fmt.Sprintf("%s not tested: the test request needs %s", cd, missing)
			r.Fix = grantScopesFix([]string{missing}, k.opts.tenant.ClientID) + " (it is needed anyway to send verification emails)"
			return r
		}
		fallthrough
	default:
		r.Status = statusFail
		r.Detail = fmt.Sprintf("%s not tested: %v", cd, err)
	}
	return r
}

// refusesCustomDomain: the documented refusals are a 400 (unknown domain, bad
// format) and a 409 (several verified domains), each naming the custom domain.
func refusesCustomDomain(e *management.APIError) bool {
	if e.StatusCode != http.StatusBadRequest && e.StatusCode != http.StatusConflict {
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "custom domain") || strings.Contains(m, "custom-domain")
}

func asAPIError(err error) *management.APIError {
	e, _ := management.AsAPIError(err)
	return e
}

// missingScopeOf returns the scope a 403 insufficient_scope names.
func missingScopeOf(e *management.APIError) (string, bool) {
	if e == nil {
		return "", false
	}
	s, ok := e.MissingScope()
	if ok && s == "" {
		s = "a scope the API did not name"
	}
	return s, ok
}
