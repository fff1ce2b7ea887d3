package run

import (
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// A report is bound to the tenant its run wrote to (report.Tenant in its
// header). Everything that carries a run on from its report (--resume,
// verify --report, report failures) refuses another tenant here, so that a
// run's users never end up split over two tenants. Domain and client are
// compared before any call to the tenant; the connection id once the
// connection has been looked up, before anything is written or sent.

// TenantOf names the tenant a run configured with domain and either
// clientID (client credentials) or token reaches. A token's client is read
// from its claims (management.TokenClientID); it is "" when the token names
// none, and is then neither recorded nor compared.
func TenantOf(domain, clientID, token string) report.Tenant {
	t := report.Tenant{Domain: canonicalDomain(domain), ClientID: clientID}
	if t.ClientID == "" && token != "" {
		t.ClientID = management.TokenClientID(token)
	}
	return t
}

// canonicalDomain is how a domain is recorded and compared: the same tenant
// may be given as "Acme.eu.auth0.com", "https://acme.eu.auth0.com/" or
// "acme.eu.auth0.com". A port stays: on loopback it is what tells two
// sandboxes apart.
func canonicalDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	if _, rest, ok := strings.Cut(d, "://"); ok {
		d = rest
	}
	return strings.TrimRight(d, "/")
}

// sameTenant reports whether was (a report's) and now (the run's) can be the
// same tenant: every field known on both sides is equal. Client ids are
// Auth0's case-sensitive strings; domains are compared canonically.
func sameTenant(was, now report.Tenant) bool {
	agree := func(a, b string) bool { return a == "" || b == "" || a == b }
	return agree(canonicalDomain(was.Domain), canonicalDomain(now.Domain)) &&
		agree(was.ClientID, now.ClientID) &&
		agree(was.ConnectionID, now.ConnectionID)
}

// checkTenant refuses (exit 2) a report whose tenant is not now. what and
// path name the report as the operator gave it ("--resume r.ndjson").
func checkTenant(what, path string, was, now report.Tenant) error {
	if sameTenant(was, now) {
		return nil
	}
	return Usagef("%s %s: the report is of tenant %s, not %s", what, path, describeTenant(was), describeTenant(now))
}

// checkReportTenant is checkTenant against the tenant env reaches, before any
// call to it. A report written before tenants were recorded cannot be
// checked: it stays usable, with a warning.
func checkReportTenant(env *Env, what, path string, was report.Tenant) error {
	now := env.Target
	if was == (report.Tenant{}) {
		if now.Domain != "" {
			env.Log.Warn(fmt.Sprintf("%s %s: the report does not record its tenant (written by an earlier a0bulk): it cannot be checked against %s", what, path, describeTenant(now)))
		}
		return nil
	}
	return checkTenant(what, path, was, now)
}

// bindConnection records the id the tenant gave the run's connection in a
// fresh report's header, and refuses a resume whose report was of another
// connection (another tenant, or one deleted and made again under the same
// name): it runs after the lookup, before the report is written.
func (p *journalPlan) bindConnection(id string) error {
	p.header.Tenant.ConnectionID = id
	if p.res == nil {
		return nil
	}
	return checkTenant(p.flag, p.res.Path, p.res.State.Header.Tenant, p.header.Tenant)
}

// describeTenant names t with what is known of it:
// "acme.eu.auth0.com (client abc, connection con_X)".
func describeTenant(t report.Tenant) string {
	name := canonicalDomain(t.Domain)
	if name == "" {
		name = "an unknown domain"
	}
	var known []string
	if t.ClientID != "" {
		known = append(known, "client "+t.ClientID)
	}
	if t.ConnectionID != "" {
		known = append(known, "connection "+t.ConnectionID)
	}
	if len(known) > 0 {
		name += " (" + strings.Join(known, ", ") + ")"
	}
	return name
}

// SameTenant reports whether was and now can be the same tenant: every
// field known on both is equal (domains compared canonically). A migrate
// binds its journal to its two tenants with it, as reports are bound here.
func SameTenant(was, now report.Tenant) bool { return sameTenant(was, now) }
