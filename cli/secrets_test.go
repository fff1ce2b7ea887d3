package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

const chkSecret = "s3cr3t-FROM-FILE-9f8e7d"

func chkWriteFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; the test needs it exact.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientSecretFile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		content  string
		mode     os.FileMode
		viaEnv   bool
		code     int
		warn     bool
		errMatch string
	}{
		{"trimmed, private", chkSecret + "\n", 0o600, false, 0, false, ""},
		{"CRLF and spaces trimmed", "  " + chkSecret + "\r\n", 0o400, false, 0, false, ""},
		{"world-readable warns but works", chkSecret, 0o644, false, 0, true, ""},
		{"from AUTH0_CLIENT_SECRET_FILE", chkSecret + "\n", 0o600, true, 0, false, ""},
		{"empty file", " \n", 0o600, false, 2, false, "is empty"},
		{"wrong secret reaches the tenant", "not-the-secret", 0o600, false, 1, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, _ := chkTenant(t, sandbox.Config{ClientID: "app_check", ClientSecret: chkSecret})
			path := chkWriteFile(t, "secret", tc.content, tc.mode)
			args := []string{"check", "--domain", addr, "--client-id", "app_check", "--connection", chkDB}
			if tc.viaEnv {
				t.Setenv("AUTH0_CLIENT_SECRET_FILE", path)
			} else {
				args = append(args, "--client-secret-file", path)
			}
			r := chkRun(t, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.out, r.errOut)
			}
			warned := strings.Contains(r.errOut, "readable by every user")
			if warned != tc.warn {
				t.Errorf("warning on stderr = %v, want %v: %s", warned, tc.warn, r.errOut)
			}
			if tc.errMatch != "" && !strings.Contains(r.errOut, tc.errMatch) {
				t.Errorf("stderr %q lacks %q", r.errOut, tc.errMatch)
			}
			if strings.Contains(r.out+r.errOut, chkSecret) {
				t.Error("the client secret was printed")
			}
		})
	}
}

func TestClientSecretFileUsageErrors(t *testing.T) {
	chkCleanEnv(t)
	secret := chkWriteFile(t, "secret", chkSecret, 0o600)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"missing file", []string{"--client-secret-file", filepath.Join(t.TempDir(), "nope")}},
		{"a directory", []string{"--client-secret-file", t.TempDir()}},
		{"both secret and file", []string{"--client-secret", "x", "--client-secret-file", secret}},
		{"file and token", []string{"--client-secret-file", secret, "--token", "abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"check", "--domain", "127.0.0.1:9", "--client-id", "app_check"}, tc.args...)
			r := chkRun(t, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2 (found before any call): %s", r.code, r.errOut)
			}
			if strings.Contains(r.out+r.errOut, chkSecret) {
				t.Error("the client secret was printed")
			}
		})
	}
}
