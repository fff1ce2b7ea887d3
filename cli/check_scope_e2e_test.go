package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

// A 403 insufficient_scope in a real run says which scope is missing, not
// just "forbidden", and the run stops (exit 1) instead of failing every user.
func TestMissingScopeIsNamed(t *testing.T) {
	input := filepath.Join("..", "fixtures", "small.csv")
	createInput := filepath.Join("..", "fixtures", "create.csv")
	for _, tc := range []struct {
		name   string
		scopes []string
		args   []string
		want   string
	}{
		{"import without create:users", []string{"read:users", "read:connections"}, []string{"import", "--input", input}, "create:users"},
		{"import without read:connections", []string{"create:users", "read:users"}, []string{"import", "--input", input}, "read:connections"},
		{"create without create:users", []string{"read:users", "read:connections", "update:users"}, []string{"create", "--input", createInput}, "create:users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, _ := chkTenant(t, sandbox.Config{Scopes: tc.scopes, JobDelay: -1})
			args := append(tc.args, "--domain", addr, "--client-id", "a", "--client-secret", "b",
				"--connection", chkDB, "--no-progress", "--report", filepath.Join(t.TempDir(), "r.ndjson"))
			r := chkRun(t, args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", r.code, r.out, r.errOut)
			}
			if !strings.Contains(r.errOut, tc.want) {
				t.Errorf("stderr does not name the missing scope %s:\n%s", tc.want, r.errOut)
			}
		})
	}
}
