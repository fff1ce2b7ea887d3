package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/sandbox"
)

// The config file, the environment and the flags all name the client secret;
// the tenant accepts only one, so whether the token is issued shows which
// source won.
func TestConfigPrecedence(t *testing.T) {
	const right, wrong = "right-secret-1a2b", "wrong-secret-3c4d"
	for _, tc := range []struct {
		name      string
		file, env string // AUTH0_CLIENT_SECRET in the file / the environment ("" = unset)
		flag      string // --client-secret ("" = not given)
		token     string // PASS or FAIL
	}{
		{"file alone", right, "", "", "PASS"},
		{"env over file", wrong, right, "", "PASS"},
		{"env over file, proven by a wrong env", right, wrong, "", "FAIL"},
		{"flag over env and file", wrong, wrong, right, "PASS"},
		{"flag over env, proven by a wrong flag", right, right, wrong, "FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, _ := chkTenant(t, sandbox.Config{ClientID: "app_cfg", ClientSecret: right})
			cfg := chkWriteFile(t, "a0bulk.env", strings.Join([]string{
				"# a0bulk settings",
				"AUTH0_DOMAIN=" + addr,
				`AUTH0_CLIENT_ID="app_cfg"`,
				"AUTH0_CLIENT_SECRET=" + tc.file,
				"",
				"A0BULK_CONNECTION = " + chkDB,
				"A0BULK_OUTPUT=json",
			}, "\n"), 0o600)
			if tc.env != "" {
				t.Setenv("AUTH0_CLIENT_SECRET", tc.env)
			}
			args := []string{"--config", cfg, "check"}
			if tc.flag != "" {
				args = append(args, "--client-secret", tc.flag)
			}
			r := chkRun(t, args...)
			var rep chkJSON
			if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
				t.Fatalf("no JSON report (A0BULK_OUTPUT from the file): %v\n%s%s", err, r.out, r.errOut)
			}
			if got := rep.line(t, "token"); got.Status != tc.token {
				t.Errorf("token %+v, want %s", got, tc.token)
			}
			if tc.token == "PASS" && rep.line(t, "connection").Status != "PASS" {
				t.Errorf("connection from the file: %+v", rep.line(t, "connection"))
			}
			if strings.Contains(r.errOut, "readable by every user") {
				t.Errorf("a 0600 config file was warned about: %s", r.errOut)
			}
			for _, s := range []string{right, wrong} {
				if strings.Contains(r.out+r.errOut, s) {
					t.Errorf("a secret was printed: %s", s)
				}
			}
		})
	}
}

func TestConfigFileForms(t *testing.T) {
	const secret = "cfg-secret-5e6f"
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{ClientSecret: secret})
	secretFile := chkWriteFile(t, "secret", secret+"\n", 0o600)
	body := "AUTH0_DOMAIN=" + addr + "\nAUTH0_CLIENT_ID=app\nAUTH0_CLIENT_SECRET_FILE=" + secretFile + "\n"

	t.Run("A0BULK_CONFIG names the file; the file names a secret file", func(t *testing.T) {
		chkCleanEnv(t)
		t.Setenv("A0BULK_CONFIG", chkWriteFile(t, "cfg", body, 0o600))
		if r := chkRun(t, "check", "--connection", chkDB); r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
		}
	})
	t.Run("--config=FILE", func(t *testing.T) {
		chkCleanEnv(t)
		if r := chkRun(t, "check", "--config="+chkWriteFile(t, "cfg", body, 0o600), "--connection", chkDB); r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
		}
	})
	t.Run("world-readable config warns", func(t *testing.T) {
		chkCleanEnv(t)
		r := chkRun(t, "--config", chkWriteFile(t, "cfg", body, 0o644), "check", "--connection", chkDB)
		if r.code != 0 || !strings.Contains(r.errOut, "readable by every user") {
			t.Fatalf("exit %d, stderr %q: want 0 and a warning", r.code, r.errOut)
		}
	})
	for _, bad := range []struct{ name, body string }{
		{"not KEY=VALUE", "AUTH0_DOMAIN " + addr + "\n"},
		{"not an a0bulk variable", "PATH=/tmp\n"},
	} {
		t.Run("refused: "+bad.name, func(t *testing.T) {
			chkCleanEnv(t)
			r := chkRun(t, "--config", chkWriteFile(t, "cfg", bad.body, 0o600), "check")
			if r.code != 2 || !strings.Contains(r.errOut, "config file") {
				t.Fatalf("exit %d stderr %q, want 2 naming the config file", r.code, r.errOut)
			}
			if os.Getenv("PATH") == "/tmp" {
				t.Fatal("the config file changed PATH")
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		chkCleanEnv(t)
		if r := chkRun(t, "--config", "/nonexistent/a0bulk.env", "check"); r.code != 2 {
			t.Fatalf("exit %d, want 2", r.code)
		}
	})
	t.Run("no config at all is fine", func(t *testing.T) {
		chkCleanEnv(t)
		r := chkRun(t, "check", "--domain", addr, "--client-id", "app", "--client-secret", secret, "--connection", chkDB)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
		}
	})
}

// A credential on the command line sets aside a different kind of credential
// that comes only from the environment (or the config file), instead of
// colliding with it: flags override env.
func TestFlagCredentialOverridesEnvKind(t *testing.T) {
	const right = "kind-secret-7a8b"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"--client-secret over AUTH0_CLIENT_SECRET_FILE", map[string]string{"AUTH0_CLIENT_SECRET_FILE": "/nonexistent/secret"},
			[]string{"--client-id", "app", "--client-secret", right}},
		{"--client-secret-file over AUTH0_CLIENT_SECRET", map[string]string{"AUTH0_CLIENT_SECRET": "wrong"},
			[]string{"--client-id", "app", "--client-secret-file", "SECRETFILE"}},
		{"--client-id and secret over AUTH0_TOKEN", map[string]string{"AUTH0_TOKEN": "not.a.token"},
			[]string{"--client-id", "app", "--client-secret", right}},
		{"--token over AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET", map[string]string{"AUTH0_CLIENT_ID": "app", "AUTH0_CLIENT_SECRET": "wrong"},
			[]string{"--token", "TOKEN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			addr, _ := chkTenant(t, sandbox.Config{ClientSecret: right})
			secretFile := chkWriteFile(t, "secret", right, 0o600)
			token := chkToken(t, addr, right)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := []string{"check", "--domain", addr, "--connection", chkDB}
			for _, a := range tc.args {
				a = strings.ReplaceAll(a, "SECRETFILE", secretFile)
				args = append(args, strings.ReplaceAll(a, "TOKEN", token))
			}
			if r := chkRun(t, args...); r.code != 0 {
				t.Fatalf("exit %d, want 0\n%s%s", r.code, r.out, r.errOut)
			}
		})
	}
}
