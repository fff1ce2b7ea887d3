package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

// A misspelt A0BULK_ variable is named with the setting it was meant to be,
// instead of the run going on without it and then saying --connection is
// required. Variables a0bulk reads, or that are not its own, are not.
func TestUnknownEnvironmentIsWarnedAbout(t *testing.T) {
	chkCleanEnv(t)
	for k, v := range map[string]string{
		"A0BULK_CONNCTION":   chkDB,       // a slip
		"A0BULK_FROBNICATE":  "1",         // not ours, no near miss
		"AUTH0_DOMIAN":       "x",         // a slip of a shared AUTH0_ name
		"AUTH0_CALLBACK_URL": "http://x",  // another Auth0 tool's: silence
		"A0BULK_OUTPUT":      "text",      // read by a0bulk
		"A0BULK_BIN":         "/bin/true", // our scripts' own
		"A0BULK_MIN_RECORDS": "1",         // a sync flag: known to every command
	} {
		t.Setenv(k, v)
	}
	r := chkRun(t, "import", "--input", filepath.Join("..", "fixtures", "small.csv"), "--domain", "127.0.0.1:1", "--client-id", "a", "--client-secret", "b")
	if r.code != 2 || !strings.Contains(r.errOut, "--connection is required") {
		t.Fatalf("exit %d\n%s", r.code, r.errOut)
	}
	for _, want := range []string{
		"warning: A0BULK_CONNCTION is set but is not an a0bulk setting (did you mean A0BULK_CONNECTION?)",
		"warning: A0BULK_FROBNICATE is set but is not an a0bulk setting\n",
		"warning: AUTH0_DOMIAN is set but is not an a0bulk setting (did you mean AUTH0_DOMAIN?)",
	} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.errOut)
		}
	}
	for _, quiet := range []string{"AUTH0_CALLBACK_URL", "A0BULK_OUTPUT", "A0BULK_BIN", "A0BULK_MIN_RECORDS"} {
		if strings.Contains(r.errOut, quiet) {
			t.Errorf("%s was warned about:\n%s", quiet, r.errOut)
		}
	}
}

// A config file key a0bulk does not read is warned about with its line and
// the key it may have meant, and is not set; the other keys still apply.
func TestUnknownConfigKeyIsWarnedAbout(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{})
	body := "AUTH0_DOMAIN=" + addr + "\nAUTH0_CLIENT_ID=a\nAUTH0_CLIENT_SECRET=b\nA0BULK_CONNCTION=" + chkDB + "\nA0BULK_DOMAIN=x\n"
	r := chkRun(t, "--config", chkWriteFile(t, "cfg", body, 0o600), "check")
	for _, want := range []string{
		":4: A0BULK_CONNCTION is not an a0bulk setting, ignored (did you mean A0BULK_CONNECTION?)",
		":5: A0BULK_DOMAIN is not an a0bulk setting, ignored (did you mean AUTH0_DOMAIN?)",
	} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.errOut)
		}
	}
	// The known keys applied: check reached the tenant (no connection given).
	if r.code != 0 || !strings.Contains(r.out, "PASS  token") {
		t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if v, set := os.LookupEnv("A0BULK_CONNCTION"); set {
		t.Errorf("an ignored config key reached the environment: %q", v)
	}
}
