package cli_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/cli"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/sandbox"
)

// chkEnvKeys are the variables a0bulk reads; tests clear them so the
// developer's own environment cannot change an outcome.
var chkEnvKeys = []string{
	"AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_CLIENT_SECRET_FILE",
	"AUTH0_TOKEN", "AUTH0_AUDIENCE", "AUTH0_CUSTOM_DOMAIN", "A0BULK_CONFIG", "A0BULK_CONNECTION",
	"A0BULK_OUTPUT", "A0BULK_VERBOSE", "A0BULK_LOG_FORMAT", "A0BULK_RATE", "A0BULK_MAX_RETRIES",
	"A0BULK_YES", "A0BULK_MIN_RECORDS", "A0BULK_STATE", "A0BULK_MAX_WAIT",
}

// chkCleanEnv unsets every a0bulk variable for the test and restores them
// after (t.Setenv registers the restore; the test cannot be parallel).
func chkCleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range chkEnvKeys {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// chkTenant serves a sandbox tenant and returns its host:port and server.
func chkTenant(t *testing.T, cfg sandbox.Config) (string, *sandbox.Server) {
	t.Helper()
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host, sb
}

type chkResult struct {
	code        int
	out, errOut string
}

func chkRun(t *testing.T, args ...string) chkResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"a0bulk"}, args...), cli.Test(strings.NewReader(""), &out, &errOut))
	return chkResult{code: code, out: out.String(), errOut: errOut.String()}
}

type chkLine struct {
	Name, Status, Detail, Fix string
}

type chkJSON struct {
	For    string    `json:"for"`
	Checks []chkLine `json:"checks"`
	OK     bool      `json:"ok"`
}

func chkRunJSON(t *testing.T, args ...string) (chkResult, chkJSON) {
	t.Helper()
	r := chkRun(t, append(args, "--output", "json")...)
	var rep chkJSON
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("check --output json printed no JSON report (exit %d): %v\nstdout: %s\nstderr: %s", r.code, err, r.out, r.errOut)
	}
	return r, rep
}

func (j chkJSON) line(t *testing.T, name string) chkLine {
	t.Helper()
	for _, c := range j.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %q line in %+v", name, j.Checks)
	return chkLine{}
}

func chkCreds(addr string) []string {
	return []string{"check", "--domain", addr, "--client-id", "app_check", "--client-secret", "secret_check"}
}

const chkDB = "Username-Password-Authentication"

func TestCheckAllPass(t *testing.T) {
	chkCleanEnv(t)
	addr, sb := chkTenant(t, sandbox.Config{})
	r, rep := chkRunJSON(t, append(chkCreds(addr), "--connection", chkDB, "--custom-domain", "login.example.com")...)
	if r.code != 0 || !rep.OK {
		t.Fatalf("exit %d ok=%v, want 0 and true: %+v\n%s", r.code, rep.OK, rep.Checks, r.errOut)
	}
	want := []string{"domain", "token", "scopes", "connection", "rate limit", "custom domain"}
	if len(rep.Checks) != len(want) {
		t.Fatalf("checks %+v, want %v", rep.Checks, want)
	}
	for i, c := range rep.Checks {
		if c.Name != want[i] || c.Status != "PASS" || c.Detail == "" {
			t.Errorf("check %d = %+v, want %s PASS with a detail", i, c, want[i])
		}
	}
	if rep.For != "import" {
		t.Errorf("for = %q, want the default import", rep.For)
	}
	// The custom-domain probe must never send an email.
	if st := sb.Stats(); len(st.VerificationEmails) != 0 {
		t.Errorf("check sent verification emails: %+v", st.VerificationEmails)
	}
}

func TestCheckTextOutput(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{Scopes: []string{"create:users", "read:connections"}})
	r := chkRun(t, append(chkCreds(addr), "--connection", chkDB)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"PASS  domain", "PASS  token", "FAIL  scopes", "PASS  connection", "PASS  rate limit", "fix: grant read:users", "not ready for a0bulk import"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("text report lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.errOut, "some checks failed") {
		t.Errorf("the report already says it; stderr repeats it: %s", r.errOut)
	}
}

// The scopes the tenant grants reach the report, and the report's verdict
// the exit code (the judging itself is tested in package preflight).
func TestCheckExitCodes(t *testing.T) {
	all := []string{"create:users", "read:users", "update:users", "read:connections"}
	for _, tc := range []struct {
		name   string
		scopes []string
		args   []string
		line   string // the line that decides
		status string
		code   int
	}{
		{"a missing scope fails", []string{"create:users", "read:connections"}, []string{"--connection", chkDB}, "scopes", "FAIL", 1},
		{"a missing optional scope warns", []string{"create:users", "read:users", "read:connections"}, []string{"--for", "create", "--connection", chkDB}, "scopes", "WARN", 0},
		{"--for picks the command", []string{"update:users", "read:users"}, []string{"--for", "verify"}, "scopes", "PASS", 0},
		{"an unknown connection fails", all, []string{"--connection", "No-Such-Connection"}, "connection", "FAIL", 1},
		{"a social connection fails", all, []string{"--connection", "google-oauth2"}, "connection", "FAIL", 1},
		{"the lookup needs read:connections", []string{"create:users", "read:users"}, []string{"--connection", chkDB}, "connection", "FAIL", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, _ := chkTenant(t, sandbox.Config{Scopes: tc.scopes})
			r, rep := chkRunJSON(t, append(chkCreds(addr), tc.args...)...)
			if got := rep.line(t, tc.line); got.Status != tc.status {
				t.Errorf("%s %+v, want %s", tc.line, got, tc.status)
			}
			if r.code != tc.code || rep.OK != (tc.code == 0) {
				t.Errorf("exit %d ok=%v, want %d", r.code, rep.OK, tc.code)
			}
			if tc.status == "FAIL" && !strings.Contains(rep.line(t, tc.line).Fix, "Auth0 Dashboard") {
				t.Errorf("a FAIL line without a fix: %+v", rep.line(t, tc.line))
			}
			if rep.line(t, "token").Status != "PASS" {
				t.Errorf("token line: %+v", rep.line(t, "token"))
			}
		})
	}
}

func TestCheckNoConnectionGiven(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{})
	r, rep := chkRunJSON(t, chkCreds(addr)...)
	if got := rep.line(t, "connection"); got.Status != "WARN" || !strings.Contains(got.Fix, "--connection") {
		t.Errorf("connection %+v, want a WARN asking for --connection", got)
	}
	if r.code != 0 || !rep.OK {
		t.Errorf("exit %d ok=%v: a warning alone must not fail the check", r.code, rep.OK)
	}
}

// --custom-domain reaches the client: the header goes only where Auth0
// accepts it, and the tenant's refusal fails the check.
func TestCheckCustomDomain(t *testing.T) {
	for _, tc := range []struct {
		name, domain string
		scopes       []string
		status       string
		mention      string
	}{
		{"verified", "login.example.com", nil, "PASS", "accepted"},
		{"verified, other case", "LOGIN.example.com", nil, "PASS", "accepted"},
		{"not the tenant's", "login.other.example", nil, "FAIL", "does not exist for the tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, sb := chkTenant(t, sandbox.Config{Scopes: tc.scopes})
			_, rep := chkRunJSON(t, append(chkCreds(addr), "--connection", chkDB, "--custom-domain", tc.domain)...)
			got := rep.line(t, "custom domain")
			if got.Status != tc.status || !strings.Contains(got.Detail+" "+got.Fix, tc.mention) {
				t.Fatalf("custom domain %+v, want %s mentioning %q", got, tc.status, tc.mention)
			}
			if tc.status == "FAIL" && (rep.OK || !strings.Contains(got.Fix, "Custom Domains")) {
				t.Errorf("a refused custom domain must fail the check with a fix: ok=%v %+v", rep.OK, got)
			}
			st := sb.Stats()
			if len(st.VerificationEmails) != 0 {
				t.Errorf("check sent verification emails: %+v", st.VerificationEmails)
			}
			if len(st.CustomDomainViolations) != 0 {
				t.Errorf("the header went where Auth0 does not accept it: %+v", st.CustomDomainViolations)
			}
		})
	}
}

func TestCheckTokenRefused(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{ClientID: "app_check", ClientSecret: "the-right-secret"})
	r, rep := chkRunJSON(t, append(chkCreds(addr), "--connection", chkDB)...)
	if r.code != 1 || rep.OK {
		t.Fatalf("exit %d ok=%v, want 1 and false", r.code, rep.OK)
	}
	if got := rep.line(t, "domain"); got.Status != "PASS" {
		t.Errorf("the token endpoint answered (401), so the domain answers: %+v", got)
	}
	tok := rep.line(t, "token")
	if tok.Status != "FAIL" || !strings.Contains(tok.Fix, "--client-id") {
		t.Errorf("token %+v, want FAIL pointing at the credentials", tok)
	}
	for _, n := range []string{"scopes", "connection", "rate limit"} {
		if got := rep.line(t, n); got.Status != "SKIP" {
			t.Errorf("%s %+v, want SKIP after a refused token", n, got)
		}
	}
	if strings.Contains(r.out+r.errOut, "secret_check") {
		t.Error("the client secret was printed")
	}
}

func TestCheckDomainUnreachable(t *testing.T) {
	chkCleanEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	r, rep := chkRunJSON(t, append(chkCreds(addr), "--max-wait", "0")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if got := rep.line(t, "domain"); got.Status != "FAIL" || !strings.Contains(got.Fix, "--domain") {
		t.Errorf("domain %+v, want FAIL with a fix naming --domain", got)
	}
	if got := rep.line(t, "token"); got.Status != "SKIP" {
		t.Errorf("token %+v, want SKIP", got)
	}
}

func TestCheckLowHeadroom(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{Rate: 0.001, Burst: 10})
	// Another client spends most of the bucket: every /api/v2 request takes
	// a token, even an unauthenticated one.
	for range 7 {
		resp, err := http.Get("http://" + addr + "/api/v2/connections")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	r, rep := chkRunJSON(t, append(chkCreds(addr), "--connection", chkDB)...)
	got := rep.line(t, "rate limit")
	if got.Status != "WARN" || !strings.Contains(got.Detail, "bucket of 10 requests, 2 left") {
		t.Fatalf("rate limit %+v, want WARN with 2 of 10 left", got)
	}
	if r.code != 0 {
		t.Errorf("exit %d: low headroom is a warning", r.code)
	}
	// A bucket of 10 is Auth0's Enterprise non-production plan: 2/s.
	if !strings.Contains(got.Detail, "about 2/s") || !strings.Contains(got.Detail, "1h23m20s per 10,000 users") {
		t.Errorf("rate limit %+v, want the pace and a duration per 10,000 creates", got)
	}
}

// --rate (and A0BULK_RATE) reach the estimate on the rate-limit line.
func TestCheckRate(t *testing.T) {
	const want = "about 1.5/s (--rate): 1h51m7s per 10,000 users"
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{})
	_, rep := chkRunJSON(t, append(chkCreds(addr), "--connection", chkDB, "--rate", "1.5")...)
	if got := rep.line(t, "rate limit"); !strings.HasSuffix(got.Detail, want) {
		t.Errorf("rate limit %+v, want it to end %q", got, want)
	}
	t.Setenv("A0BULK_RATE", "1.5")
	_, rep = chkRunJSON(t, append(chkCreds(addr), "--connection", chkDB)...)
	if got := rep.line(t, "rate limit"); !strings.HasSuffix(got.Detail, want) {
		t.Errorf("with A0BULK_RATE: rate limit %+v, want it to end %q", got, want)
	}
}

func TestCheckStaticToken(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{Scopes: []string{"update:users", "read:users"}})
	tr := management.TokenResponse{AccessToken: chkToken(t, addr, "y")}
	// The scopes come from the JWT's scope claim: there is no token response.
	r, rep := chkRunJSON(t, "check", "--domain", addr, "--token", tr.AccessToken, "--for", "verify")
	if r.code != 0 {
		t.Fatalf("exit %d: %+v", r.code, rep.Checks)
	}
	if got := rep.line(t, "token"); !strings.Contains(got.Detail, "--token") {
		t.Errorf("token %+v", got)
	}
	_, rep = chkRunJSON(t, "check", "--domain", addr, "--token", tr.AccessToken, "--for", "import")
	if got := rep.line(t, "scopes"); got.Status != "FAIL" || !strings.Contains(got.Detail, "create:users") {
		t.Errorf("scopes %+v, want FAIL naming create:users from the claim", got)
	}
	if strings.Contains(r.out+r.errOut, tr.AccessToken) {
		t.Error("the token was printed")
	}

	// A token the tenant did not sign is refused by the API.
	r, rep = chkRunJSON(t, "check", "--domain", addr, "--token", "not.a.token", "--for", "verify")
	if got := rep.line(t, "token"); r.code != 1 || got.Status != "FAIL" {
		t.Errorf("exit %d token %+v, want 1 and FAIL", r.code, got)
	}
}

func TestCheckUsage(t *testing.T) {
	chkCleanEnv(t)
	for _, args := range [][]string{
		{"check", "--domain", "127.0.0.1:9", "--client-id", "a", "--client-secret", "b", "--for", "migrate"},
		{"check", "--client-id", "a", "--client-secret", "b"},
		{"check", "--domain", "127.0.0.1:9", "--client-id", "a"},
		{"check", "--domain", "127.0.0.1:9", "--client-id", "a", "--client-secret", "b", "--output", "yaml"},
	} {
		if r := chkRun(t, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.errOut)
		}
	}
}

// chkToken gets an access token from the sandbox at addr, as a user of
// --token would from their own tooling.
func chkToken(t *testing.T, addr, secret string) string {
	t.Helper()
	resp, err := http.PostForm("http://"+addr+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {secret},
		"audience": {"http://" + addr + "/api/v2/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr management.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("no token from the sandbox: %v", err)
	}
	return tr.AccessToken
}
