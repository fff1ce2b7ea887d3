package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// A report started by an earlier version wrote its settings as flag names
// with string values; it must still be read, field by field.
func TestSettingsReadTheFirstFormat(t *testing.T) {
	legacy := `{"format":"csv","map":"m.json","map_sha256":"ab","chunk-bytes":"3000","max-jobs":"2","slot-wait":"30m0s","send-completion-email":"false","rate":"2.5","max-retries":"5","concurrency":"8","random-password":"true","verify-email":"false","custom-domain":"login.acme.com","app-client-id":"abc","sync_mode":"create","state":"s.db"}`
	var got Settings
	if err := json.Unmarshal([]byte(legacy), &got); err != nil {
		t.Fatal(err)
	}
	want := Settings{Format: "csv", Map: "m.json", MapSHA256: "ab", ChunkBytes: 3000, MaxJobs: 2, SlotWait: Duration(30 * time.Minute),
		Rate: 2.5, MaxRetries: 5, Concurrency: 8, RandomPassword: true, CustomDomain: "login.acme.com", AppClientID: "abc", SyncMode: "create", State: "s.db"}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// Written again, it reads back the same.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var again Settings
	if err := json.Unmarshal(b, &again); err != nil || again != want {
		t.Fatalf("round trip %s: %+v, %v", b, again, err)
	}
}

func TestReadHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.ndjson")
	h := RunHeader{Mode: "import", Connection: "DB", Settings: Settings{ChunkBytes: 3000, Format: "json"}}
	w, err := Create(path, h, clock.NewFake(t0))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Record(Entry{File: "a", Line: 1, Status: Invalid, Code: "INVALID"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHeader(path)
	if err != nil || got.Connection != "DB" || got.Settings.ChunkBytes != 3000 || got.Settings.Format != "json" {
		t.Fatalf("ReadHeader = %+v, %v", got, err)
	}
	for name, content := range map[string]string{"empty": "", "entry first": `{"status":"created","file":"a","line":1}` + "\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadHeader(p); err == nil {
			t.Errorf("%s: ReadHeader accepted it", name)
		}
	}
}

// A report from before a setting was recorded keeps the base (the default of
// its day) for it; a recorded zero stays zero.
func TestReadHeaderOverKeepsWhatIsNotRecorded(t *testing.T) {
	dir := t.TempDir()
	base := Settings{ChunkBytes: 500000, MaxJobs: 2, Concurrency: 8, MaxRetries: 5, MaxWait: Duration(15 * time.Minute)}
	for name, tc := range map[string]struct {
		extra string
		want  Settings
	}{
		"before tuning was recorded": {`{"format":"","map":""}`, base},
		"no extra at all":            {``, base},
		"recorded zeros":             {`{"max-retries":"0","concurrency":"3","chunk-bytes":"3000","max-jobs":"1","max-wait":"0s"}`, Settings{ChunkBytes: 3000, MaxJobs: 1, Concurrency: 3}},
		"before max-wait":            {`{"max-retries":"2","concurrency":"3","chunk-bytes":"3000","max-jobs":"1"}`, Settings{ChunkBytes: 3000, MaxJobs: 1, Concurrency: 3, MaxRetries: 2, MaxWait: Duration(15 * time.Minute)}},
		"max-wait recorded":          {`{"max-wait":"2h0m0s"}`, Settings{ChunkBytes: 500000, MaxJobs: 2, Concurrency: 8, MaxRetries: 5, MaxWait: Duration(2 * time.Hour)}},
	} {
		extra := ""
		if tc.extra != "" {
			extra = `,"extra":` + tc.extra
		}
		p := filepath.Join(dir, "r.ndjson")
		line := `{"status":"run","at":"2026-01-01T00:00:00Z","run":{"version":"old","mode":"create","connection":"DB","upsert":false,"external_id":"","inputs":[],"started_at":"2026-01-01T00:00:00Z"` + extra + "}}\n"
		if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := ReadHeaderOver(p, base)
		if err != nil || h.Settings != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", name, h.Settings, err, tc.want)
		}
	}
}

// The header records the tenant the run wrote to; a header from before it
// was recorded reads as no tenant (nothing to compare), and a run that knew
// no tenant writes none.
func TestHeaderRecordsTheTenant(t *testing.T) {
	dir := t.TempDir()
	tenant := Tenant{Domain: "acme.eu.auth0.com", ClientID: "abc", ConnectionID: "con_0123456789abcdef"}
	for name, tc := range map[string]struct {
		h    RunHeader
		want string // in the header line
	}{
		"recorded": {RunHeader{Mode: "create", Connection: "DB", Tenant: tenant}, `"tenant":{"domain":"acme.eu.auth0.com","client_id":"abc","connection_id":"con_0123456789abcdef"}`},
		"unknown":  {RunHeader{Mode: "create", Connection: "DB"}, ""},
	} {
		path := filepath.Join(dir, name+".ndjson")
		w, err := Create(path, tc.h, clock.NewFake(t0))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), `"tenant"`); got != (tc.want != "") || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: header %s, want %s", name, b, tc.want)
		}
		got, err := ReadHeader(path)
		if err != nil || got.Tenant != tc.h.Tenant {
			t.Errorf("%s: read back %+v, %v; want %+v", name, got.Tenant, err, tc.h.Tenant)
		}
	}
	old := filepath.Join(dir, "old.ndjson")
	line := `{"status":"run","at":"2026-01-01T00:00:00Z","run":{"version":"old","mode":"create","connection":"DB","upsert":false,"external_id":"","inputs":[],"started_at":"2026-01-01T00:00:00Z"}}` + "\n"
	if err := os.WriteFile(old, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if h, err := ReadHeader(old); err != nil || h.Tenant != (Tenant{}) {
		t.Fatalf("an older report: %+v, %v; want no tenant", h.Tenant, err)
	}
}
