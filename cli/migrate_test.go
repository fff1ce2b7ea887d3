package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/sandbox"
)

// migrateCleanEnv is chkCleanEnv for a migrate's two sides too.
func migrateCleanEnv(t *testing.T) {
	t.Helper()
	chkCleanEnv(t)
	for _, suffix := range []string{"_FROM", "_TO"} {
		for _, k := range []string{"AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_CLIENT_SECRET_FILE", "AUTH0_TOKEN", "AUTH0_AUDIENCE", "A0BULK_CONNECTION"} {
			t.Setenv(k+suffix, "")
			os.Unsetenv(k + suffix)
		}
	}
}

// migrateTenants serves a source holding users and an empty target.
func migrateTenants(t *testing.T, users int) (src, dst string, srcSB, dstSB *sandbox.Server) {
	t.Helper()
	src, srcSB = chkTenant(t, sandbox.Config{JobDelay: -1})
	dst, dstSB = chkTenant(t, sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{Seed: 2}})
	for i := range users {
		srcSB.AddUser(management.User{Email: "u" + string(rune('a'+i)) + "@example.com"}, chkDB)
	}
	return src, dst, srcSB, dstSB
}

// On a terminal a migrate asks once, before the export, naming both
// tenants and connections: no stops it (exit 2) with nothing sent to
// either and nothing written; yes runs it, and the import does not ask
// again.
func TestMigrateConfirmation(t *testing.T) {
	for _, tc := range []struct {
		answer string
		code   int
	}{{"n\n", 2}, {"y\n", 0}} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			migrateCleanEnv(t)
			src, dst, srcSB, dstSB := migrateTenants(t, 3)
			report := filepath.Join(t.TempDir(), "m.ndjson")
			r := ttyRun(t, true, true, tc.answer, "migrate", "--from", src, "--from-client-id", "app_src", "--from-client-secret", "s",
				"--to", dst, "--to-client-id", "app_dst", "--to-client-secret", "d",
				"--from-connection", chkDB, "--to-connection", chkDB, "--no-progress", "--report", report)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.out, r.errOut)
			}
			for _, want := range []string{
				"about to move users between Auth0 tenants",
				"from      " + src + " (client app_src), connection \"" + chkDB + "\" (an export job: read only)",
				"to        " + dst + " (client app_dst), connection \"" + chkDB + "\" (bulk-import jobs)",
				"existing  skipped (no --upsert)",
			} {
				if !strings.Contains(r.errOut, want) {
					t.Errorf("the question does not say %q:\n%s", want, r.errOut)
				}
			}
			if n := strings.Count(r.errOut, question); n != 1 {
				t.Errorf("asked %d times:\n%s", n, r.errOut)
			}
			if tc.code != 2 {
				if len(dstSB.Users()) != 3 || !strings.Contains(r.out, "difference: none") {
					t.Errorf("target %d users:\n%s", len(dstSB.Users()), r.out)
				}
				return
			}
			if !strings.Contains(r.errOut, "not confirmed: nothing was sent to "+src+" or "+dst) {
				t.Errorf("no refusal:\n%s", r.errOut)
			}
			if a, b := apiRequests(srcSB), apiRequests(dstSB); len(a)+len(b) != 0 {
				t.Errorf("an unconfirmed migrate called the API: %v %v", a, b)
			}
			if _, err := os.Stat(report + ".migrate.ndjson"); !os.IsNotExist(err) {
				t.Errorf("an unconfirmed migrate wrote its journal: %v", err)
			}
		})
	}
}

// A config file holds both sides (the _FROM and _TO keys are a0bulk's
// settings); a secret in the environment sets aside only its own side's
// secret file from the config file.
func TestMigrateConfigFile(t *testing.T) {
	migrateCleanEnv(t)
	src, dst, _, dstSB := migrateTenants(t, 2)
	dir := t.TempDir()
	secret := filepath.Join(dir, "src.secret")
	os.WriteFile(secret, []byte("from-a-file\n"), 0o600)
	config := filepath.Join(dir, "a0bulk.env")
	os.WriteFile(config, []byte(strings.Join([]string{
		"AUTH0_DOMAIN_FROM=" + src, "AUTH0_CLIENT_ID_FROM=a", "AUTH0_CLIENT_SECRET_FILE_FROM=" + secret,
		"AUTH0_DOMAIN_TO=" + dst, "AUTH0_CLIENT_ID_TO=b", "AUTH0_CLIENT_SECRET_FILE_TO=" + filepath.Join(dir, "missing"),
		"A0BULK_CONNECTION_FROM=" + chkDB, "A0BULK_CONNECTION_TO=" + chkDB,
	}, "\n")+"\n"), 0o600)
	t.Setenv("AUTH0_CLIENT_SECRET_TO", "from-the-environment")
	r := chkRun(t, "migrate", "--config", config, "--no-progress", "--report", filepath.Join(dir, "m.ndjson"))
	if r.code != 0 || strings.Contains(r.errOut, "not an a0bulk setting") || len(dstSB.Users()) != 2 {
		t.Fatalf("exit %d, %d users in the target\n%s%s", r.code, len(dstSB.Users()), r.out, r.errOut)
	}
}
