package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/throttle"
)

// resumeWith reads the create command's spec and tenant options from args,
// as its Action does.
func resumeWith(t *testing.T, args ...string) (run.Spec, tenantOptions) {
	t.Helper()
	s := Test(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	var (
		spec run.Spec
		ten  tenantOptions
	)
	cmd := createCommand(s)
	cmd.Action = func(c *ucli.Context) error {
		var err error
		if spec, err = readSpec(c, run.ModeCreate, s.ErrOut); err != nil {
			return err
		}
		if ten, err = readTenant(c, s); err != nil {
			return err
		}
		ten = ten.paced(spec.Settings)
		return nil
	}
	app := &ucli.App{Commands: []*ucli.Command{cmd}, Writer: s.Out, ErrWriter: s.ErrOut}
	base := []string{"a0bulk", "create", "--domain", "127.0.0.1:1", "--client-id", "a", "--client-secret", "b"}
	if err := app.Run(append(base, args...)); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return spec, ten
}

// writeHeader writes a report holding only a create run's header.
func writeHeader(t *testing.T, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.ndjson")
	line := `{"status":"run","at":"2026-01-01T00:00:00Z","run":{"version":"v","mode":"create","connection":"DB","upsert":false,"external_id":"","inputs":[{"path":"users.csv","size":1,"sha256":"ab"}],"started_at":"2026-01-01T00:00:00Z","extra":` + extra + "}}\n"
	if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A resume takes the first run's settings from its report, and the ones
// the client uses (rate, retries, custom domain) reach the client; a flag
// given again wins; a report from before the settings were recorded
// resumes with the defaults of that day.
func TestResumeRestoresSettingsIntoTheClient(t *testing.T) {
	rep := writeHeader(t, `{"format":"csv","rate":"2.5","max-retries":"0","concurrency":"3","random-password":"true","verify-email":"true","custom-domain":"login.example.com","app-client-id":"app1"}`)
	spec, ten := resumeWith(t, "--resume", rep)
	if spec.Connection != "DB" || spec.Inputs[0] != "users.csv" || spec.Format != "csv" || spec.Concurrency != 3 ||
		!spec.RandomPassword || !spec.VerifyEmail || spec.AppClientID != "app1" {
		t.Fatalf("spec %+v", spec)
	}
	if ten.Rate != 2.5 || ten.MaxRetries != 0 || ten.CustomDomain != "login.example.com" {
		t.Fatalf("client options %+v: want the recorded rate, retries and custom domain", ten)
	}

	spec, ten = resumeWith(t, "--resume", rep, "--rate", "7", "--concurrency", "5")
	if ten.Rate != 7 || spec.Rate != 7 || spec.Concurrency != 5 || ten.MaxRetries != 0 || ten.CustomDomain != "login.example.com" {
		t.Fatalf("given again: spec %+v, client %+v", spec, ten)
	}

	old := writeHeader(t, `{"format":"","map":""}`)
	spec, ten = resumeWith(t, "--resume", old)
	if spec.Concurrency != run.Defaults().Concurrency || ten.MaxRetries != run.DefaultMaxRetries || ten.Rate != 0 {
		t.Fatalf("old report: spec %+v, client %+v; want the defaults", spec, ten)
	}
}

// --max-wait is recorded like the other pacing settings: a resume keeps
// it, a flag given again wins, and a report from before it was recorded
// resumes with the default (15m).
func TestResumeRestoresMaxWait(t *testing.T) {
	spec, ten := resumeWith(t, "--input", "users.csv", "--connection", "DB", "--max-wait", "2h")
	if time.Duration(spec.MaxWait) != 2*time.Hour || ten.MaxWait != 2*time.Hour {
		t.Fatalf("fresh run: spec %v, client %v; want 2h", time.Duration(spec.MaxWait), ten.MaxWait)
	}
	rep := writeHeader(t, `{"max-retries":"5","max-wait":"40m0s"}`)
	if _, ten = resumeWith(t, "--resume", rep); ten.MaxWait != 40*time.Minute {
		t.Errorf("resume: %v, want the recorded 40m", ten.MaxWait)
	}
	if _, ten = resumeWith(t, "--resume", rep, "--max-wait", "0"); ten.MaxWait != 0 {
		t.Errorf("given again: %v, want 0", ten.MaxWait)
	}
	old := writeHeader(t, `{"max-retries":"5"}`)
	if _, ten = resumeWith(t, "--resume", old); ten.MaxWait != throttle.DefaultMaxWait {
		t.Errorf("report from before max-wait: %v, want %v", ten.MaxWait, throttle.DefaultMaxWait)
	}
}
