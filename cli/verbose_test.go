package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

const (
	verboseSecret   = "Verbose-Client-Secret-7c1d9e"
	verbosePassword = "Verbose-Plain-Pa55word!x9"
)

// verboseHash is a valid bcrypt shape (so the record is sent) that appears
// nowhere else.
var verboseHash = "$2b$10$" + "VerboseRedactionTestHashA0bulk" + strings.Repeat("Q", 53-len("VerboseRedactionTestHashA0bulk"))

// verboseTenant serves a sandbox; it remembers every token it issues.
func verboseTenant(t *testing.T) (string, *sandbox.Server) {
	t.Helper()
	spy := sandbox.New(sandbox.Config{ClientID: "app_verbose", ClientSecret: verboseSecret, JobDelay: -1})
	srv := httptest.NewServer(spy)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host, spy
}

// verboseRun runs a0bulk with --verbose and checks that the run logged its
// requests and that no secret of the run appears on stdout or stderr.
func verboseRun(t *testing.T, spy *sandbox.Server, wantCode int, args ...string) chkResult {
	t.Helper()
	r := chkRun(t, args...)
	if r.code != wantCode {
		t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args[0], r.code, wantCode, r.out, r.errOut)
	}
	if !strings.Contains(r.errOut, "/api/v2/") || !strings.Contains(r.errOut, "x-ratelimit-remaining") {
		t.Fatalf("--verbose logged no request with its rate-limit headers:\n%s", r.errOut)
	}
	tokens := spy.IssuedTokens()
	if len(tokens) == 0 {
		t.Fatal("no token was issued: the test proves nothing")
	}
	secrets := append([]string{verboseSecret, url.QueryEscape(verboseSecret), verbosePassword, verboseHash}, tokens...)
	for _, tok := range tokens {
		// Any one part of the JWT (its signature above all) is a leak too.
		secrets = append(secrets, strings.Split(tok, ".")[2])
	}
	for _, s := range secrets {
		if strings.Contains(r.out, s) || strings.Contains(r.errOut, s) {
			t.Errorf("%v printed a secret (%.12s…)", args[0], s)
		}
	}
	if strings.Contains(strings.ToLower(r.errOut), "authorization") || strings.Contains(r.errOut, "Bearer") {
		t.Errorf("%v logged the Authorization header", args[0])
	}
	return r
}

func TestVerboseNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	importCSV := filepath.Join(dir, "import.csv")
	createCSV := filepath.Join(dir, "create.csv")
	if err := os.WriteFile(importCSV, []byte("email,password_hash\nverbose.one@example.com,"+verboseHash+"\nverbose.two@example.com,"+verboseHash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(createCSV, []byte("email,password\nverbose.three@example.com,"+verbosePassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := chkWriteFile(t, "secret", verboseSecret+"\n", 0o600)
	creds := func(addr string) []string {
		return []string{"--domain", addr, "--client-id", "app_verbose", "--client-secret-file", secretFile, "--verbose", "--no-progress"}
	}

	t.Run("check", func(t *testing.T) {
		chkCleanEnv(t)
		addr, spy := verboseTenant(t)
		r := verboseRun(t, spy, 0, append([]string{"check"}, append(creds(addr), "--connection", chkDB, "--custom-domain", "login.example.com")...)...)
		for _, want := range []string{"method=GET", "path=/api/v2/connections", "status=200", "latency=", "path=/api/v2/jobs/verification-email", "status=404"} {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("verbose log lacks %q:\n%s", want, r.errOut)
			}
		}
	})
	t.Run("import", func(t *testing.T) {
		chkCleanEnv(t)
		addr, spy := verboseTenant(t)
		report := filepath.Join(t.TempDir(), "import.ndjson")
		verboseRun(t, spy, 0, append([]string{"import"}, append(creds(addr), "--connection", chkDB, "--input", importCSV, "--report", report)...)...)
		data, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("verbose.one@example.com")) || bytes.Contains(data, []byte(verboseHash)) || bytes.Contains(data, []byte(verboseSecret)) {
			t.Errorf("the report holds a secret or misses the user:\n%s", data)
		}
	})
	t.Run("create, JSON logs", func(t *testing.T) {
		chkCleanEnv(t)
		addr, spy := verboseTenant(t)
		report := filepath.Join(t.TempDir(), "create.ndjson")
		r := verboseRun(t, spy, 0, append([]string{"create"}, append(creds(addr), "--connection", chkDB, "--input", createCSV, "--report", report, "--log-format", "json")...)...)
		seen := 0
		for _, line := range strings.Split(strings.TrimSpace(r.errOut), "\n") {
			if !strings.HasPrefix(line, "{") {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("--log-format json printed a line that is not JSON: %q", line)
			}
			if m["path"] == "/api/v2/users" && m["method"] == "POST" && m["status"] == float64(201) {
				seen++
				for _, k := range []string{"latency", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} {
					if _, ok := m[k]; !ok {
						t.Errorf("request log %v lacks %q", m, k)
					}
				}
			}
		}
		if seen != 1 {
			t.Errorf("want one JSON log line for the POST /api/v2/users, got %d:\n%s", seen, r.errOut)
		}
	})
}
