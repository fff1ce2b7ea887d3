package run

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// resumedReport writes the report of a run of spec over 10 users (CSV
// lines 2..11) and appends lines for some of them, as an earlier run left
// them: entries get each record's file, line and ordinal.
func resumedReport(t *testing.T, spec Spec, lines ...report.Entry) string {
	t.Helper()
	path := startedReport(t, filepath.Dir(spec.Inputs[0]), spec)
	w, _, err := report.Append(path, clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lines {
		if e.Status != report.Submitted {
			e.File, e.Line = spec.Inputs[0], e.Record+1
			e.Email = fmt.Sprintf("u%d@example.com", e.Record)
		}
		if err := w.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func tenUsers(t *testing.T, header string, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 1; i <= 10; i++ {
		b.WriteString(row(i) + "\n")
	}
	return writeFile(t, t.TempDir(), "users.csv", b.String())
}

// A resumed create's dry run plans what is left: 4 of 10 users are final,
// so 6 requests (it used to estimate all 10, "1000 requests ≈ 8m20s" with
// 223 done).
func TestResumedCreateDryRunPlansWhatIsLeft(t *testing.T) {
	ts := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(ts.Close)
	in := tenUsers(t, "email,password", func(i int) string { return fmt.Sprintf("u%d@example.com,Correct-Horse-9-Battery", i) })
	spec := Spec{Mode: ModeCreate, Connection: dbConn, Inputs: []string{in}, Settings: Defaults()}
	var done []report.Entry
	for i := 1; i <= 4; i++ {
		done = append(done, report.Entry{Record: i, Status: report.Created, UserID: fmt.Sprintf("auth0|%d", i)})
	}
	spec.Resume = resumedReport(t, spec, done...)
	p, err := DryRun(context.Background(), Env{Connect: testConnect(t, ts.URL)}, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Resumed || p.Done != 4 || p.Send != 6 || p.Requests != 6 || p.Records != 10 {
		t.Fatalf("plan: resumed %v, done %d, send %d, requests %d of %d records; want 4 done, 6 requests", p.Resumed, p.Done, p.Send, p.Requests, p.Records)
	}
}

// A resumed import's dry run packs only the records left to send: not the
// final ones, nor those in a job the tenant accepted (settled by reading
// it); a retry's dry run adds the failed ones.
func TestResumedImportDryRunPlansWhatIsLeft(t *testing.T) {
	ts := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(ts.Close)
	in := tenUsers(t, "email", func(i int) string { return fmt.Sprintf("u%d@example.com", i) })
	spec := Spec{Mode: ModeImport, Connection: dbConn, Inputs: []string{in}, Settings: Defaults()}
	spec.ChunkBytes = 60 // two users per file
	spec.Resume = resumedReport(t, spec,
		report.Entry{Record: 1, Status: report.Created}, report.Entry{Record: 2, Status: report.Created},
		report.Entry{Record: 3, Status: report.Failed, Code: "JOB_FAILED"}, report.Entry{Record: 4, Status: report.Failed, Code: "JOB_FAILED"},
		report.Entry{Record: 5, Status: report.Queued, Chunk: 3}, report.Entry{Record: 6, Status: report.Queued, Chunk: 3},
		report.Entry{Status: report.Submitted, Chunk: 3, JobID: "job_0123456789abcdef"},
	)
	for _, retry := range []bool{false, true} {
		spec.Retry = retry
		p, err := DryRun(context.Background(), Env{Connect: testConnect(t, ts.URL)}, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantDone, wantSend, wantRetry := 4, 4, 0
		if retry {
			wantDone, wantSend, wantRetry = 2, 6, 2
		}
		if p.Done != wantDone || p.Settle != 2 || p.Send != wantSend || p.Retry != wantRetry || len(p.ChunkBytes) != wantSend/2 {
			t.Fatalf("retry %v: done %d, settle %d, send %d, retry %d, %d import files; want %d, 2, %d, %d, %d",
				retry, p.Done, p.Settle, p.Send, p.Retry, len(p.ChunkBytes), wantDone, wantSend, wantRetry, wantSend/2)
		}
	}
}
