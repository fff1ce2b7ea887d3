package cli

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

// Sync's flag errors exit 2 before any request, and leave no state behind.
func TestSyncUsageErrors(t *testing.T) {
	sb := sandbox.New(sandbox.Config{})
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	state := filepath.Join(dir, "users.state")
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("email,given_name\nu0@example.com,U\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const syncConn = "Username-Password-Authentication"
	base := []string{"a0bulk", "sync", "--domain", strings.TrimPrefix(ts.URL, "http://"), "--client-id", "x", "--client-secret", "y", "--input", in}
	for name, args := range map[string][]string{
		"no state":             {"--connection", syncConn},
		"no connection":        {"--state", state},
		"bad mode":             {"--connection", syncConn, "--state", state, "--mode", "merge"},
		"create flag, import":  {"--connection", syncConn, "--state", state, "--random-password"},
		"import flag, create":  {"--connection", syncConn, "--state", state, "--mode", "create", "--max-jobs", "1"},
		"no credentials":       {"--connection", syncConn, "--state", state, "--client-secret", ""},
		"upsert is not a flag": {"--connection", syncConn, "--state", state, "--upsert"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Main(append(append([]string{}, base...), args...), Test(strings.NewReader(""), &out, &errOut)); code != ExitUsage {
				t.Fatalf("exit %d, want 2: %s", code, errOut.String())
			}
		})
	}
	if n := len(sb.Stats().Requests); n != 0 {
		t.Fatalf("usage errors reached the tenant: %v", sb.Stats().Requests)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("a usage error created the state: %v", err)
	}
}
