package chaostest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

// Distinctive secrets: each appears in the input or the environment only.
var (
	secPasswords = []string{"Pw-Leak-Canary-0001!", "Pw-Leak-Canary-0002!", "Pw-Leak-Canary-0003!", "weakleak"}
	// Bcrypt shapes ($2b$, cost, 53 characters): the two of cost 10 are
	// sent; the one of cost 12 is invalid (Auth0 takes password_hash at
	// cost 10 only), and its reason must not quote it either.
	secHashes = []string{
		"$2b$10$" + "HashLeakCanaryAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$2b$10$" + "HashLeakCanaryBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
		"$2a$12$" + "HashLeakCanaryCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
	}
	secCustomHash = "Q3VzdG9tSGFzaExlYWtDYW5hcnk="
	secSalt       = "SaltLeakCanary"
)

// noLeak fails the test when any secret, or anything shaped like a bearer
// token, is in one of the texts.
func noLeak(t *testing.T, sp *sandbox.Server, texts map[string]string) {
	t.Helper()
	forbidden := append([]string{chaosSecret, secCustomHash, secSalt, "Pw-Leak-Canary", "HashLeakCanary", "weakleak"}, secPasswords...)
	forbidden = append(forbidden, secHashes...)
	if sp != nil {
		tokens := sp.IssuedTokens()
		if len(tokens) == 0 {
			t.Error("no token was issued: the run proves nothing")
		}
		forbidden = append(forbidden, tokens...)
	}
	for where, text := range texts {
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s contains a secret (%.20s…)", where, f)
			}
		}
		for _, shape := range []string{"Bearer ", "bearer ", "eyJ", "client_secret", "Authorization", "authorization:"} {
			if strings.Contains(text, shape) {
				i := strings.Index(text, shape)
				t.Errorf("%s contains %q: …%s…", where, shape, text[max(0, i-80):min(len(text), i+80)])
			}
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode0600(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), fi.Mode().Perm())
	}
}

// createInput: a create-mode CSV with plaintext passwords; the last one is
// too weak, so the tenant's 400 path is taken too.
func createInput(t *testing.T, dir string) string {
	var b strings.Builder
	b.WriteString("email,given_name,password\n")
	for i, pw := range secPasswords {
		fmt.Fprintf(&b, "sec%d@example.com,User%d,%s\n", i, i, pw)
	}
	return write(t, dir, "create.csv", []byte(b.String()))
}

// importInput: NDJSON with bcrypt hashes and a custom hash; one user is
// already in the tenant, so the job's per-user errors (which carry the
// user object, hash masked) are read and joined.
func importInput(t *testing.T, dir string) string {
	var b strings.Builder
	for i, h := range secHashes {
		fmt.Fprintf(&b, `{"email":"imp%d@example.com","password_hash":%q}`+"\n", i, h)
	}
	fmt.Fprintf(&b, `{"email":"custom@example.com","custom_password_hash":{"algorithm":"sha256","hash":{"value":%q,"encoding":"base64"},"salt":{"value":%q,"position":"prefix"}}}`+"\n", secCustomHash, secSalt)
	fmt.Fprintf(&b, `{"email":"bad@example.com","password_hash":"$2b$10$HashLeakCanaryTooShort"}`+"\n")
	return write(t, dir, "import.ndjson", []byte(b.String()))
}

func TestSecretsNeverLeak(t *testing.T) {
	type runCase struct {
		name  string
		cfg   sandbox.Config
		seed  func(*sandbox.Server)
		args  func(dir string) []string
		code  int
		state bool // the run writes dir/state
	}
	seedExisting := func(sb *sandbox.Server) {
		sb.AddUser(mgmtUser("imp0@example.com"), dbConn)
	}
	cases := []runCase{
		{name: "create with passwords and faults",
			cfg: sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{Seed: 3, Error5xx: 0.2, ResetAfter: 0.2}},
			args: func(dir string) []string {
				return []string{"create", "--verbose", "--input", createInput(t, dir)}
			}, code: 3},
		{name: "create upsert with json logs",
			cfg:  sandbox.Config{JobDelay: -1},
			seed: func(sb *sandbox.Server) { sb.AddUser(mgmtUser("sec0@example.com"), dbConn) },
			args: func(dir string) []string {
				return []string{"create", "--verbose", "--log-format", "json", "--upsert", "--input", createInput(t, dir)}
			}, code: 3},
		{name: "import with hashes",
			cfg: sandbox.Config{JobDelay: -1}, seed: seedExisting,
			args: func(dir string) []string {
				return []string{"import", "--verbose", "--input", importInput(t, dir)}
			}, code: 3},
		{name: "import with a failed job",
			cfg: sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{FailEveryNthJob: 1}},
			args: func(dir string) []string {
				return []string{"import", "--verbose", "--output", "json", "--input", importInput(t, dir)}
			}, code: 3},
		{name: "sync import mode", state: true,
			cfg: sandbox.Config{JobDelay: -1}, seed: seedExisting,
			args: func(dir string) []string {
				return []string{"sync", "--verbose", "--state", filepath.Join(dir, "state"), "--input", importInput(t, dir)}
			}, code: 3},
		{name: "sync create mode", state: true,
			cfg: sandbox.Config{JobDelay: -1},
			args: func(dir string) []string {
				return []string{"sync", "--mode", "create", "--verbose", "--state", filepath.Join(dir, "state"), "--input", createInput(t, dir)}
			}, code: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb := tenant(t, tc.cfg)
			if tc.seed != nil {
				tc.seed(sb)
			}
			dir := t.TempDir()
			rep := filepath.Join(dir, "run.ndjson")
			args := append(tc.args(dir), "--connection", dbConn, "--report", rep, "--no-progress", "--rate", "1000")
			r := run(t, "", args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r)
			}
			if !strings.Contains(r.errOut, "/api/v2/") {
				t.Errorf("--verbose logged no request: the run proves nothing\n%s", r.errOut)
			}
			texts := map[string]string{"stdout": r.out, "stderr": r.errOut, "report": readFile(t, rep)}
			mode0600(t, rep)
			if tc.state {
				st := filepath.Join(dir, "state")
				mode0600(t, st)
				texts["state"] = readFile(t, st)
			}
			noLeak(t, sb, texts)
			// Request bodies are never logged: no JSON object on stderr
			// beyond the log lines themselves.
			for _, body := range []string{`"password`, `"connection_id"`, `"verify_email"`, `"users":`} {
				if strings.Contains(r.errOut, body) {
					t.Errorf("stderr holds a request body fragment %s", body)
				}
			}
		})
	}
}

// Failed authentication: neither the secret nor the rejected token is in
// the error the user sees.
func TestAuthFailuresDoNotEcho(t *testing.T) {
	const badToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWFrLWNhbmFyeSJ9.TokenLeakCanarySignature"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"wrong secret in env", map[string]string{"AUTH0_CLIENT_SECRET": chaosSecret + "-wrong"}, nil},
		{"wrong secret as flag", nil, []string{"--client-secret", chaosSecret + "-wrong"}},
		{"rejected static token", map[string]string{"AUTH0_CLIENT_ID": "", "AUTH0_CLIENT_SECRET": "", "AUTH0_TOKEN": badToken}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant(t, sandbox.Config{JobDelay: -1})
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			rep := filepath.Join(dir, "run.ndjson")
			args := append([]string{"import", "--verbose", "--connection", dbConn, "--input", importInput(t, dir), "--report", rep}, tc.args...)
			r := run(t, "", args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (auth failed)\n%s", r.code, r)
			}
			texts := map[string]string{"stdout": r.out, "stderr": r.errOut}
			if _, err := os.Stat(rep); err == nil {
				texts["report"] = readFile(t, rep)
			}
			noLeak(t, nil, texts)
			for _, f := range []string{chaosSecret + "-wrong", badToken, "TokenLeakCanary"} {
				if strings.Contains(r.out+r.errOut, f) {
					t.Errorf("the rejected credential %.20s… was printed", f)
				}
			}
		})
	}
}

// A plain http:// domain is refused unless it is loopback: exit 2, before
// any request (the secret would cross the network in clear).
func TestPlainHTTPRefused(t *testing.T) {
	sb := tenant(t, sandbox.Config{JobDelay: -1})
	dir := t.TempDir()
	in := write(t, dir, "u.csv", []byte(goodCSV))
	for _, domain := range []string{
		"http://tenant.example.com",
		"http://tenant.example.com:8787",
		"http://10.0.0.8:8787",
		"http://192.168.1.20",
		"http://localhost.attacker.example:8787",
		"http://127.0.0.1.nip.io:8787",
	} {
		t.Run(domain, func(t *testing.T) {
			r := run(t, "", "import", "--domain", domain, "--connection", dbConn, "--input", in, "--report", filepath.Join(dir, "never.ndjson"))
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r)
			}
			if strings.Contains(r.out+r.errOut, chaosSecret) {
				t.Error("the secret was printed")
			}
		})
	}
	if n := len(sb.Users()); n != 0 {
		t.Errorf("%d users reached the loopback tenant", n)
	}
}
