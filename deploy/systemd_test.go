package deploy_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unit is a systemd unit file: section → key → values (a key may repeat).
type unit map[string]map[string][]string

func readUnit(t *testing.T, name string) unit {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("systemd", name))
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: not a key=value line in a section: %q", name, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// TestSystemdService: the nightly sync's service runs a0bulk sync with
// flags it has, keeps its state and reports under StateDirectory, reads
// the client secret from a credential through --client-secret-file, and
// is hardened.
func TestSystemdService(t *testing.T) {
	u := readUnit(t, "a0bulk-sync.service")
	svc := "Service"
	argv := strings.Fields(u.get(svc, "ExecStart"))
	if len(argv) < 2 || !strings.HasSuffix(argv[0], "/a0bulk") || argv[1] != "sync" {
		t.Fatalf("ExecStart %q does not run a0bulk sync", argv)
	}
	sync := syncFlags(t)
	given := sync.check(t, argv[2:])
	stateDirs := strings.Fields(u.get(svc, "StateDirectory"))
	if len(stateDirs) == 0 {
		t.Fatal("no StateDirectory")
	}
	under := "%S/" + stateDirs[0] + "/"
	if !strings.HasPrefix(given["state"], under) {
		t.Errorf("--state %q is not under the StateDirectory (%s)", given["state"], under)
	}
	if wd := u.get(svc, "WorkingDirectory"); !strings.HasPrefix(wd+"/", under) {
		t.Errorf("WorkingDirectory %q (where reports go) is not under the StateDirectory", wd)
	}
	if r, ok := given["report"]; ok && !strings.HasPrefix(r, under) {
		t.Errorf("--report %q is not under the StateDirectory", r)
	}

	// The secret: a credential, read through --client-secret-file.
	creds := map[string]string{}
	for _, lc := range u[svc]["LoadCredential"] {
		id, file, _ := strings.Cut(lc, ":")
		creds[id] = file
	}
	env := map[string]string{}
	for _, e := range u[svc]["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	for k := range env {
		if _, ok := sync.env[k]; !ok {
			t.Errorf("Environment=%s is read by no flag of a0bulk sync", k)
		}
	}
	secretFile := env["AUTH0_CLIENT_SECRET_FILE"]
	id, ok := strings.CutPrefix(secretFile, "%d/")
	if !ok || creds[id] == "" || sync.env["AUTH0_CLIENT_SECRET_FILE"] != "client-secret-file" {
		t.Errorf("AUTH0_CLIENT_SECRET_FILE=%q is not a LoadCredential= file (%v) read by --client-secret-file", secretFile, creds)
	}
	if _, ok := env["AUTH0_CLIENT_SECRET"]; ok {
		t.Error("the client secret is in the environment")
	}
	// The example environment file names variables a0bulk reads.
	ex, err := os.ReadFile("systemd/sync.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ex), "\n") {
		k, _, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, "#") {
			if _, known := sync.env[k]; !known {
				t.Errorf("sync.env.example sets %s, which a0bulk sync does not read", k)
			}
		}
	}

	for key, want := range map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "UMask": "0077", "CapabilityBoundingSet": "",
		"Type": "oneshot",
	} {
		if vals, ok := u[svc][key]; !ok || u.get(svc, key) != want {
			t.Errorf("%s=%q, want %q (%v)", key, u.get(svc, key), want, vals)
		}
	}
	if !strings.Contains(u.get(svc, "RestrictAddressFamilies"), "AF_INET") {
		t.Error("RestrictAddressFamilies does not allow the tenant's HTTPS")
	}
}

// TestSystemdTimer: the timer starts the service nightly and catches up a
// missed night.
func TestSystemdTimer(t *testing.T) {
	u := readUnit(t, "a0bulk-sync.timer")
	if u.get("Timer", "OnCalendar") == "" || u.get("Timer", "Persistent") != "true" {
		t.Errorf("timer: OnCalendar %q, Persistent %q", u.get("Timer", "OnCalendar"), u.get("Timer", "Persistent"))
	}
	if unitName := u.get("Timer", "Unit"); unitName != "" && unitName != "a0bulk-sync.service" {
		t.Errorf("the timer starts %s", unitName)
	}
	if u.get("Install", "WantedBy") != "timers.target" {
		t.Error("the timer is not wanted by timers.target")
	}
}

// TestSystemdAnalyzeVerify runs systemd's own check on both units where
// systemd-analyze is installed, with ExecStart pointing at an executable
// file (verify checks that it exists). Any warning fails the test.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "a0bulk")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a0bulk-sync.service", "a0bulk-sync.timer"} {
		b, err := os.ReadFile(filepath.Join("systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/a0bulk"), []byte(fake))
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sa, "verify", "--man=no", filepath.Join(dir, "a0bulk-sync.service"), filepath.Join(dir, "a0bulk-sync.timer"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
