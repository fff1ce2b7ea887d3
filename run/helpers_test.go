package run

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/throttle"
)

// testConnect reaches a sandbox at url through the real client, as the cli
// does (rate capped high: the sandbox's own limits decide).
func testConnect(t *testing.T, url string) func() (Tenant, error) {
	return func() (Tenant, error) {
		c, err := management.New(management.Config{
			Domain: strings.TrimPrefix(url, "http://"), ClientID: "cid", ClientSecret: "sec",
			Throttle: throttle.Options{Rate: 1000, MaxRate: 1000, MaxRetries: 5},
		})
		if err != nil {
			t.Errorf("connecting to the sandbox: %v", err)
			return nil, err
		}
		return c, nil
	}
}

// lastLines reads a report's record lines and keeps, per record, the last
// one keep accepts: what a test checks a report holds, without report.Load's
// compact state (which keeps few lines whole).
func lastLines(t *testing.T, path string, keep func(report.Status) bool) map[report.Key]report.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[report.Key]report.Entry{}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if i == 0 || len(line) == 0 {
			continue // the header
		}
		var e report.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		if e.Status == report.Retrying {
			delete(out, e.Key())
		}
		if keep(e.Status) && e.File != "" {
			out[e.Key()] = e
		}
	}
	return out
}

func finalLine(s report.Status) bool { return s.IsFinal() }

func isVerification(s report.Status) bool { return s.IsVerification() }
