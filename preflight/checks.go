package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/throttle"
)

// checker runs the checks of one Run.
type checker struct {
	api  API
	opts Options // Now is set
}

const domainFix = "check --domain (the tenant's own domain, e.g. acme.eu.auth0.com), DNS, and any proxy or firewall between here and Auth0"

func (k *checker) run(ctx context.Context) []Result {
	static := k.opts.StaticToken
	info, tokErr := k.api.TokenInfo(ctx)
	var te *management.TokenError
	if !static && errors.As(tokErr, &te) {
		return k.tokenRefused(te)
	}

	// One API read, always: it proves the API answers and the token is
	// accepted, and its answer carries the x-ratelimit headers.
	name := k.opts.Connection
	if name == "" {
		name = ProbeConnection
	}
	conn, connErr := k.api.ConnectionByName(ctx, name)
	apiErr, isAPI := management.AsAPIError(connErr)
	answered := connErr == nil || isAPI || errors.Is(connErr, management.ErrConnectionNotFound)

	var out []Result
	if !answered {
		out = append(out, Result{Name: CheckDomain, Status: Fail,
			Detail: fmt.Sprintf("%s/api/v2 did not answer: %v", k.opts.Domain, connErr),
			Fix:    domainFix})
		return append(out, skipped(k.later(CheckToken)...)...)
	}
	how := "the API answered"
	if !static {
		how = "the token endpoint and the API answered"
	}
	out = append(out, Result{Name: CheckDomain, Status: Pass, Detail: fmt.Sprintf("%s: %s", k.opts.Domain, how)})

	if isAPI && apiErr.IsUnauthorized() {
		fix := "the token is expired, revoked or for another tenant: get a new one, or use --client-id with a secret"
		if !static {
			fix = "the token's audience must be the tenant's API (https://DOMAIN/api/v2/): drop --audience, and give the tenant's canonical domain as --domain"
		}
		out = append(out, Result{Name: CheckToken, Status: Fail, Detail: "the API refused the token: " + apiErr.Error(), Fix: fix})
		return append(out, skipped(k.later(CheckScopes)...)...)
	}
	out = append(out, k.tokenLine(info))
	out = append(out, k.scopesLine(info, tokErr, apiErr))
	if line, ok := k.connectionLine(conn, connErr); ok {
		out = append(out, line)
	}
	out = append(out, k.headroomLine())
	if k.opts.CustomDomain != "" {
		out = append(out, k.customDomainLine(ctx))
	}
	return out
}

// later names the checks from first on, as they would have run.
func (k *checker) later(first string) []string {
	all := []string{CheckDomain, CheckToken, CheckScopes, CheckConnection, CheckRateLimit}
	if k.opts.CustomDomain != "" {
		all = append(all, CheckCustomDomain)
	}
	for i, n := range all {
		if n == first {
			return all[i:]
		}
	}
	return nil
}

func skipped(names ...string) []Result {
	out := make([]Result, len(names))
	for i, n := range names {
		out[i] = Result{Name: n, Status: Skip, Detail: "not checked: an earlier check failed"}
	}
	return out
}

// tokenRefused reports a failed client-credentials grant: no HTTP answer
// means the domain is wrong or unreachable; an answer means the tenant
// refused the application.
func (k *checker) tokenRefused(te *management.TokenError) []Result {
	if te.StatusCode == 0 {
		return append([]Result{{Name: CheckDomain, Status: Fail,
			Detail: fmt.Sprintf("%s/oauth/token did not answer: %s", k.opts.Domain, te.Message),
			Fix:    domainFix}},
			skipped(k.later(CheckToken)...)...)
	}
	out := []Result{
		{Name: CheckDomain, Status: Pass, Detail: fmt.Sprintf("%s: the token endpoint answered (HTTP %d)", k.opts.Domain, te.StatusCode)},
		{Name: CheckToken, Status: Fail, Detail: "no token: " + te.Error(), Fix: TokenFix(te)},
	}
	return append(out, skipped(k.later(CheckScopes)...)...)
}

// TokenFix turns the Authentication API's refusal of a client-credentials
// grant into what to change.
func TokenFix(te *management.TokenError) string {
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

func (k *checker) tokenLine(info *management.TokenInfo) Result {
	static := k.opts.StaticToken
	r := Result{Name: CheckToken, Status: Pass}
	if static {
		r.Detail = "given with --token and accepted by the API"
	} else {
		r.Detail = fmt.Sprintf("issued to client %s", k.opts.ClientID)
	}
	if info != nil && !info.Expiry.IsZero() {
		left := info.Expiry.Sub(k.opts.Now()).Round(time.Minute)
		r.Detail += fmt.Sprintf(", expires %s (in %s)", info.Expiry.UTC().Format(time.RFC3339), left)
		if static && left < time.Hour {
			r.Status = Warn
			r.Fix = "the token expires soon and a0bulk cannot renew a --token: use --client-id with a secret for long runs"
		}
	}
	return r
}

func (k *checker) scopesLine(info *management.TokenInfo, tokErr error, probe *management.APIError) Result {
	r := Result{Name: CheckScopes}
	if info == nil {
		r.Status = Warn
		r.Detail = fmt.Sprintf("cannot read the token's scopes (%v); the API will name any missing scope when it is used", tokErr)
		r.Fix = fmt.Sprintf("a0bulk %s needs %s", k.opts.For, strings.Join(ScopeNames(Scopes(k.opts.For)), " "))
		return r
	}
	v := judgeScopes(k.opts.For, info.Scopes)
	granted := strings.Join(info.Scopes, " ")
	if granted == "" {
		granted = "none"
	}
	switch {
	case len(v.Missing) > 0:
		r.Status = Fail
		r.Detail = fmt.Sprintf("a0bulk %s needs %s; granted: %s", k.opts.For, DescribeNeeds(v.Missing), granted)
		r.Fix = GrantScopesFix(ScopeNames(v.Missing), k.opts.ClientID)
	case len(v.MissingOptional) > 0:
		r.Status = Warn
		r.Detail = fmt.Sprintf("enough for a0bulk %s, but not for %s; granted: %s", k.opts.For, DescribeNeeds(v.MissingOptional), granted)
		r.Fix = GrantScopesFix(ScopeNames(v.MissingOptional), k.opts.ClientID) + " (only if you need those)"
	case len(v.Unused) > 0:
		r.Status = Warn
		r.Detail = fmt.Sprintf("enough for a0bulk %s; also granted %s, which a0bulk never uses", k.opts.For, strings.Join(v.Unused, " "))
		r.Fix = "least privilege: untick them for this application (Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications)"
	default:
		r.Status = Pass
		r.Detail = fmt.Sprintf("granted %s: enough for a0bulk %s", granted, k.opts.For)
	}
	if missing, ok := missingScopeOf(probe); ok && info.HasScope(missing) {
		// The token claims the scope but the API disagrees: trust the API.
		r.Status = Fail
		r.Detail = "the API refused the token for lacking " + missing
		r.Fix = GrantScopesFix([]string{missing}, k.opts.ClientID)
	}
	return r
}

// connectionLine reports the connection lookup; ok is false when there is
// nothing to say (verify and jobs need no connection and none was given).
func (k *checker) connectionLine(conn *management.Connection, err error) (Result, bool) {
	r := Result{Name: CheckConnection}
	name := k.opts.Connection
	if name == "" {
		if k.opts.For == "verify" || k.opts.For == "jobs" {
			return r, false
		}
		r.Status = Warn
		r.Detail = "not checked: no --connection given"
		r.Fix = fmt.Sprintf("run a0bulk check --for %s --connection NAME with the connection you will use", k.opts.For)
		return r, true
	}
	r.Status = Fail
	switch {
	case errors.Is(err, management.ErrConnectionNotFound):
		r.Detail = fmt.Sprintf("the tenant has no connection named %q", name)
		var nf *management.ConnectionNotFoundError
		if errors.As(err, &nf) {
			r.Detail = nf.Error() // with the tenant's database connections
		}
		r.Fix = "give the connection's exact name (case matters), as in Auth0 Dashboard → Authentication → Database"
	case err != nil:
		r.Detail = fmt.Sprintf("could not look up %q: %v", name, err)
		if missing, ok := missingScopeOf(asAPIError(err)); ok {
			r.Fix = GrantScopesFix([]string{missing}, k.opts.ClientID)
		}
	case !conn.IsDatabase():
		r.Detail = fmt.Sprintf("%q (%s) has strategy %q: users can be imported or created only in a database connection (strategy auth0)", conn.Name, conn.ID, conn.Strategy)
		r.Fix = "choose a database connection (Auth0 Dashboard → Authentication → Database); social and enterprise users are created by their first login"
	default:
		r.Status = Pass
		r.Detail = fmt.Sprintf("%q (%s) is a database connection", conn.Name, conn.ID)
	}
	return r, true
}

func (k *checker) headroomLine() Result {
	r := Result{Name: CheckRateLimit}
	limit, remaining, reset, ok := k.api.Headroom()
	// What the limit means in time: the planning figure an operator needs.
	// The same estimate as create --dry-run, so the two never disagree.
	rate, how := throttle.EstimateRate(k.opts.Rate, limit, ok)
	if !ok {
		r.Status = Warn
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
		r.Status = Warn
		r.Detail += ": the bucket is empty, something else is spending this tenant's limit right now"
		r.Fix = "find the other client (Dashboard → Monitoring → Logs) or run when it is quiet; a0bulk will wait for the limit, but slowly"
	case remaining < limit/2:
		r.Status = Warn
		r.Detail += ": other clients are using the limit"
		r.Fix = "a0bulk shares the limit and will go slower than the estimate; run when the tenant is quiet, or cap a0bulk with --rate to leave room for them"
	default:
		r.Status = Pass
	}
	per10k := (time.Duration(10000/rate*float64(time.Second)) + time.Second - 1).Truncate(time.Second)
	r.Detail += fmt.Sprintf("; per-user creates would go at about %.3g/s (%s): %s per 10,000 users", rate, how, per10k)
	return r
}

const customDomainFix = "give one of the tenant's verified custom domains, host name only (e.g. login.acme.com): Auth0 Dashboard → Branding → Custom Domains"

func (k *checker) customDomainLine(ctx context.Context) Result {
	r := Result{Name: CheckCustomDomain}
	cd := k.opts.CustomDomain
	_, err := k.api.SendVerificationEmail(ctx, management.VerificationEmailRequest{UserID: ProbeUserID})
	e := asAPIError(err)
	if err == nil {
		r.Status = Warn
		r.Detail = fmt.Sprintf("%s accepted, but a user %s exists and was sent a verification email", cd, ProbeUserID)
		return r
	}
	if e != nil && e.IsNotFound() {
		r.Status = Pass
		r.Detail = fmt.Sprintf("%s accepted (the test verification email went to a user that does not exist, so nothing was sent)", cd)
		return r
	}
	if cde, ok := management.AsCustomDomainError(err); ok {
		r.Status = Fail
		r.Detail = fmt.Sprintf("%s refused: %s", cd, cde.Message)
		r.Fix = customDomainFix
		return r
	}
	if missing, ok := missingScopeOf(e); ok {
		r.Status = Warn
		r.Detail = fmt.Sprintf("%s not tested: the test request needs %s", cd, missing)
		r.Fix = GrantScopesFix([]string{missing}, k.opts.ClientID) + " (it is needed anyway to send verification emails)"
		return r
	}
	r.Status = Fail
	r.Detail = fmt.Sprintf("%s not tested: %v", cd, err)
	return r
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
