package cli_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

// apiRequests counts what the tenant's API was sent (token requests aside).
func apiRequests(sb *sandbox.Server) map[string]int {
	out := map[string]int{}
	for k, n := range sb.Stats().Requests {
		if !strings.Contains(k, "/oauth/token") {
			out[k] = n
		}
	}
	return out
}

// A run whose token lacks a scope it will need is refused with exit 2,
// naming the missing scopes and where to grant them, before any call to the
// API: the import with create:users read:connections (no read:users)
// no longer submits a job and then fails on a lookup.
func TestMissingScopeIsRefusedBeforeTheRun(t *testing.T) {
	input := filepath.Join("..", "fixtures", "small.csv")
	createInput := filepath.Join("..", "fixtures", "create.csv")
	for _, tc := range []struct {
		name   string
		scopes []string
		args   []string
		want   []string
	}{
		{"import without read:users (the issue)", []string{"create:users", "read:connections"}, []string{"import", "--input", input},
			[]string{"lacks scopes a0bulk import needs: read:users (looking users up by email", "it carries: create:users read:connections", "fix: grant read:users"}},
		{"import without create:users", []string{"read:users", "read:connections"}, []string{"import", "--input", input}, []string{"create:users"}},
		{"import without read:connections", []string{"create:users", "read:users"}, []string{"import", "--input", input}, []string{"read:connections"}},
		{"create without create:users", []string{"read:users", "read:connections", "update:users"}, []string{"create", "--input", createInput}, []string{"create:users"}},
		{"create --upsert without update:users", []string{"create:users", "read:users", "read:connections"}, []string{"create", "--input", createInput, "--upsert"},
			[]string{"update:users (updating existing users"}},
		{"create --verify-email without update:users", []string{"create:users", "read:users", "read:connections"}, []string{"create", "--input", createInput, "--verify-email"},
			[]string{"update:users (POST /jobs/verification-email)"}},
		{"sync --mode create updates", []string{"create:users", "read:users", "read:connections"}, []string{"sync", "--mode", "create", "--input", createInput},
			[]string{"a0bulk sync needs: update:users"}},
		{"verify without update:users", []string{"create:users", "read:users", "read:connections"}, []string{"verify", "--input", input},
			[]string{"a0bulk verify needs: update:users"}},
		{"nothing granted: every scope once", []string{}, []string{"create", "--input", createInput, "--upsert", "--verify-email"},
			[]string{"grant create:users read:connections read:users update:users:", "it carries: none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, sb := chkTenant(t, sandbox.Config{Scopes: tc.scopes, JobDelay: -1})
			dir := t.TempDir()
			args := append(tc.args, "--domain", addr, "--client-id", "a", "--client-secret", "b", "--no-progress",
				"--state", filepath.Join(dir, "s.state"), "--report", filepath.Join(dir, "r.ndjson"), "--out", filepath.Join(dir, "v.ndjson"))
			args = onlyTheirFlags(tc.args[0], args)
			if tc.args[0] != "verify" && tc.args[0] != "sync" {
				args = append(args, "--connection", chkDB)
			}
			if tc.args[0] == "sync" {
				args = append(args, "--connection", chkDB, "--random-password")
			}
			r := chkRun(t, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", r.code, r.out, r.errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.errOut)
				}
			}
			if got := apiRequests(sb); len(got) != 0 {
				t.Errorf("a run refused for its scopes called the API: %v", got)
			}
		})
	}
}

// onlyTheirFlags drops the file flags command does not take.
func onlyTheirFlags(command string, args []string) []string {
	drop := map[string][]string{"import": {"--state", "--out"}, "create": {"--state", "--out"}, "sync": {"--out"}, "verify": {"--state", "--report"}}[command]
	var out []string
	for i := 0; i < len(args); i++ {
		if len(drop) > 0 && (args[i] == drop[0] || (len(drop) > 1 && args[i] == drop[1])) {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// The scopes the run needs are enough: the import succeeds once
// read:users is granted, and job reads need no more than create:users.
func TestEnoughScopesRun(t *testing.T) {
	chkCleanEnv(t)
	addr, sb := chkTenant(t, sandbox.Config{Scopes: []string{"create:users", "read:connections", "read:users"}, JobDelay: -1})
	r := chkRun(t, "import", "--input", filepath.Join("..", "fixtures", "small.csv"), "--domain", addr, "--client-id", "a", "--client-secret", "b",
		"--connection", chkDB, "--no-progress", "--report", filepath.Join(t.TempDir(), "r.ndjson"))
	if r.code != 3 { // the fixture holds 3 invalid records
		t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if n := sb.Stats().Requests["POST /api/v2/jobs/users-imports"]; n == 0 {
		t.Fatalf("no import job was submitted: %v", sb.Stats().Requests)
	}
}

// sandboxToken fetches a token from the sandbox, as a user would for --token.
func sandboxToken(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Post("http://"+addr+"/oauth/token", "application/json",
		strings.NewReader(`{"grant_type":"client_credentials","client_id":"a","client_secret":"b","audience":"http://`+addr+`/api/v2/"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return tr.AccessToken
}

// A --token's scopes are read from its JWT claims and checked the same
// way. A --token that is not a JWT cannot be read: the run is not refused
// for it, and says so.
func TestStaticTokenScopes(t *testing.T) {
	chkCleanEnv(t)
	input := filepath.Join("..", "fixtures", "small.csv")
	addr, sb := chkTenant(t, sandbox.Config{Scopes: []string{"create:users", "read:connections"}, JobDelay: -1})
	base := []string{"import", "--input", input, "--domain", addr, "--connection", chkDB, "--no-progress"}
	r := chkRun(t, append(base, "--token", sandboxToken(t, addr), "--report", filepath.Join(t.TempDir(), "r.ndjson"))...)
	if r.code != 2 || !strings.Contains(r.errOut, "read:users") {
		t.Fatalf("JWT --token without read:users: exit %d\n%s", r.code, r.errOut)
	}
	if got := apiRequests(sb); len(got) != 0 {
		t.Fatalf("called the API: %v", got)
	}
	r = chkRun(t, append(base, "--token", "opaque-not-a-jwt", "--report", filepath.Join(t.TempDir(), "r.ndjson"))...)
	if !strings.Contains(r.errOut, "warning: the token's scopes cannot be read") || !strings.Contains(r.errOut, "needs create:users read:connections read:users") {
		t.Fatalf("opaque --token: no warning\n%s", r.errOut)
	}
	if r.code == 2 {
		t.Fatalf("an opaque --token was refused for its scopes: %s", r.errOut)
	}
}

// jobs reads need create:users or read:users; either does.
func TestJobsScopes(t *testing.T) {
	chkCleanEnv(t)
	for _, tc := range []struct {
		scopes []string
		code   int
	}{
		{[]string{"update:users"}, 2},
		{[]string{"create:users"}, 1}, // through the check: the job does not exist
		{[]string{"read:users"}, 1},
	} {
		addr, sb := chkTenant(t, sandbox.Config{Scopes: tc.scopes})
		r := chkRun(t, "jobs", "status", "--domain", addr, "--client-id", "a", "--client-secret", "b", "job_0000000000000000")
		if r.code != tc.code {
			t.Fatalf("%v: exit %d, want %d\n%s", tc.scopes, r.code, tc.code, r.errOut)
		}
		if tc.code == 2 {
			if !strings.Contains(r.errOut, "a0bulk jobs needs: read:users or create:users (GET /jobs/{id}") {
				t.Errorf("%v: %s", tc.scopes, r.errOut)
			}
			if got := apiRequests(sb); len(got) != 0 {
				t.Errorf("called the API: %v", got)
			}
		}
	}
}
