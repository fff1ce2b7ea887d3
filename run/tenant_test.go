package run

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/report"
)

func TestSameTenant(t *testing.T) {
	full := report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc", ConnectionID: "con_X"}
	for _, tc := range []struct {
		name     string
		was, now report.Tenant
		same     bool
	}{
		{"identical", full, full, true},
		{"domain case, scheme and trailing slash", full, report.Tenant{Domain: " HTTPS://A.eu.Auth0.com/ ", ClientID: "abc", ConnectionID: "con_X"}, true},
		{"http scheme on loopback", report.Tenant{Domain: "127.0.0.1:4000"}, report.Tenant{Domain: "http://127.0.0.1:4000"}, true},
		{"another domain", full, report.Tenant{Domain: "b.eu.auth0.com", ClientID: "abc"}, false},
		{"another port (another sandbox)", report.Tenant{Domain: "127.0.0.1:4000"}, report.Tenant{Domain: "127.0.0.1:4001"}, false},
		{"another client", full, report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abd"}, false},
		{"client ids are case-sensitive", full, report.Tenant{Domain: "a.eu.auth0.com", ClientID: "ABC"}, false},
		{"client unknown now (opaque token)", full, report.Tenant{Domain: "a.eu.auth0.com"}, true},
		{"client unknown then", report.Tenant{Domain: "a.eu.auth0.com"}, report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc"}, true},
		{"connection not yet looked up", full, report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc"}, true},
		{"another connection", full, report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc", ConnectionID: "con_Y"}, false},
		{"nothing recorded", report.Tenant{}, full, true},
		{"nothing configured (report failures without a domain)", full, report.Tenant{}, true},
	} {
		if got := sameTenant(tc.was, tc.now); got != tc.same {
			t.Errorf("%s: sameTenant(%+v, %+v) = %v, want %v", tc.name, tc.was, tc.now, got, tc.same)
		}
		err := checkTenant("--resume", "r.ndjson", tc.was, tc.now)
		if tc.same != (err == nil) {
			t.Errorf("%s: checkTenant = %v", tc.name, err)
		}
		var ue *UsageError
		if err != nil && !errors.As(err, &ue) {
			t.Errorf("%s: %T is not a usage error", tc.name, err)
		}
	}
}

// The refusal names the report and both tenants, with what is known of each.
func TestCheckTenantNamesBoth(t *testing.T) {
	for _, tc := range []struct {
		now  report.Tenant
		want string
	}{
		{report.Tenant{Domain: "b.eu.auth0.com"}, "--resume r.ndjson: the report is of tenant a.eu.auth0.com (client abc, connection con_X), not b.eu.auth0.com"},
		{report.Tenant{Domain: "https://A.eu.auth0.com", ClientID: "def"}, "--resume r.ndjson: the report is of tenant a.eu.auth0.com (client abc, connection con_X), not a.eu.auth0.com (client def)"},
		{report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc", ConnectionID: "con_Y"}, "--resume r.ndjson: the report is of tenant a.eu.auth0.com (client abc, connection con_X), not a.eu.auth0.com (client abc, connection con_Y)"},
	} {
		err := checkTenant("--resume", "r.ndjson", report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc", ConnectionID: "con_X"}, tc.now)
		if err == nil || err.Error() != tc.want {
			t.Errorf("checkTenant = %v\nwant %s", err, tc.want)
		}
	}
}

func TestTenantOf(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	jwt := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"sub":"tok-client@clients"}`)) + ".sig"
	for _, tc := range []struct {
		name, domain, client, token string
		want                        report.Tenant
	}{
		{"client credentials", "HTTPS://Acme.eu.auth0.com/", "abc", "", report.Tenant{Domain: "acme.eu.auth0.com", ClientID: "abc"}},
		{"a JWT names its client", "acme.eu.auth0.com", "", jwt, report.Tenant{Domain: "acme.eu.auth0.com", ClientID: "tok-client"}},
		{"an opaque token names none", "acme.eu.auth0.com", "", "opaque", report.Tenant{Domain: "acme.eu.auth0.com"}},
		{"loopback keeps its port", "127.0.0.1:4000", "cid", "", report.Tenant{Domain: "127.0.0.1:4000", ClientID: "cid"}},
		{"nothing configured", "", "", "", report.Tenant{}},
	} {
		if got := TenantOf(tc.domain, tc.client, tc.token); got != tc.want {
			t.Errorf("%s: TenantOf = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// A report from before tenants were recorded stays usable, with a warning
// when there is a tenant it cannot be checked against; one that records
// its tenant is checked without a word.
func TestCheckReportTenantWarnsOnlyForUnrecorded(t *testing.T) {
	a := report.Tenant{Domain: "a.eu.auth0.com", ClientID: "abc"}
	for _, tc := range []struct {
		name     string
		was, now report.Tenant
		warn     bool
		refused  bool
	}{
		{"unrecorded, tenant configured", report.Tenant{}, a, true, false},
		{"unrecorded, nothing configured", report.Tenant{}, report.Tenant{}, false, false},
		{"recorded, same tenant", a, a, false, false},
		{"recorded, another tenant", a, report.Tenant{Domain: "b.eu.auth0.com"}, false, true},
	} {
		var logs bytes.Buffer
		env := &Env{Target: tc.now, Log: slog.New(slog.NewTextHandler(&logs, nil))}
		err := checkReportTenant(env, "--report", "r.ndjson", tc.was)
		if tc.refused != (err != nil) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if warned := strings.Contains(logs.String(), "does not record its tenant"); warned != tc.warn {
			t.Errorf("%s: logged %q", tc.name, logs.String())
		}
	}
}
