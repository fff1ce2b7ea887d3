package migrate

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/sandbox"
)

// The export's link has expired by the time it is used: the migrate
// reads the job again for a fresh one and goes on; one export job, one
// refused download, every user moved.
func TestMigrateExpiredLink(t *testing.T) {
	p := newPair(t, sandbox.Config{JobDelay: time.Second, Faults: sandbox.Faults{ExpireExportLinks: 1}}, sandbox.Config{JobDelay: time.Second, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, 12)
	var logged []string
	env := p.env()
	env.Logf = func(format string, args ...any) { logged = append(logged, format) }
	res, err := p.migrate(context.Background(), env, p.options())
	if err != nil {
		t.Fatal(err)
	}
	sameUsers(t, p.src, p.dst)
	st := p.src.srv.Stats()
	if st.ExportJobs != 1 || st.ExportDownloadsRefused != 1 || st.ExportDownloads != 1 || res.Proof.Moved != 12 {
		t.Errorf("source: %d export jobs, %d downloads refused, %d whole; proof %+v", st.ExportJobs, st.ExportDownloadsRefused, st.ExportDownloads, res.Proof)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "fresh link") {
		t.Errorf("logged %q", logged)
	}
}

// stopAt cancels the migrate when the import's journal first shows an
// entry of status: a stop by a signal.
type stopAt struct {
	status report.Status
	cancel context.CancelFunc
	once   sync.Once
}

func (s *stopAt) RecordRead()               {}
func (s *stopAt) Waiting(string, time.Time) {}
func (s *stopAt) Stop()                     {}
func (s *stopAt) Observe(e report.Entry) {
	if e.Status == s.status {
		s.once.Do(s.cancel)
	}
}

// Stopped during the import (a signal), the migrate says how to resume
// it; the resume reads the same export file (no second export job),
// sends only what is not final, and proves. A resume of the complete
// migrate sends nothing and proves again.
func TestMigrateStoppedAndResumed(t *testing.T) {
	p := newPair(t, sandbox.Config{JobDelay: time.Second}, sandbox.Config{JobDelay: time.Second, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, 30)
	o := p.options()
	o.Settings = run.Defaults()
	o.Settings.ChunkBytes = 3000
	ctx, cancel := context.WithCancel(context.Background())
	env := p.env()
	env.Import.Progress = func(run.Task) run.Progress { return &stopAt{status: report.Created, cancel: cancel} }
	res, err := p.migrate(ctx, env, o)
	var stopped *run.StoppedError
	if !errors.As(err, &stopped) || stopped.Resume != "a0bulk migrate --resume "+o.Report || res.Import.Resume != stopped.Resume || res.Proof != nil {
		t.Fatalf("first run: %v; result %+v", err, res)
	}
	before := len(finals(t, o.Report))
	if before == 0 || before == 30 {
		t.Fatalf("the stop left %d records final", before)
	}

	res, err = p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
	if err != nil {
		t.Fatal(err)
	}
	sameUsers(t, p.src, p.dst)
	if !res.Reused || res.Downloaded || p.src.srv.Stats().ExportJobs != 1 || res.Proof.Moved != 30 {
		t.Errorf("resume: %+v, %d export jobs", res, p.src.srv.Stats().ExportJobs)
	}
	imports := p.dst.srv.Stats().ImportJobs

	res, err = p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
	if err != nil || res.Proof.Moved != 30 || p.dst.srv.Stats().ImportJobs != imports {
		t.Fatalf("a resume of the complete migrate: %v, proof %+v, %d import jobs (were %d)", err, res.Proof, p.dst.srv.Stats().ImportJobs, imports)
	}
	want := []string{"migrate", "export_started", "exported", "resumed", "proved", "resumed", "proved"}
	if got := journalEvents(t, o.Report); !slices.Equal(got, want) {
		t.Errorf("journal %v", got)
	}
}

// A resume refuses, before it sends anything more, an export file that
// changed since it was downloaded (the report is tied to its bytes), and
// downloads one that is gone again from its job, which gives the same
// bytes (no new export job).
func TestMigrateResumeChecksTheFile(t *testing.T) {
	p := newPair(t, sandbox.Config{JobDelay: -1}, sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, 8)
	o := p.options()
	res, err := p.migrate(context.Background(), p.env(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(res.ExportFile)
	os.WriteFile(res.ExportFile, append(b, '\n'), 0o600)
	imports := p.dst.srv.Stats().ImportJobs
	_, err = p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
	var usage *run.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "changed since it was downloaded") {
		t.Fatalf("changed file: %v", err)
	}

	os.Remove(res.ExportFile)
	again, err := p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Downloaded || again.Export != res.Export || p.src.srv.Stats().ExportJobs != 1 || p.dst.srv.Stats().ImportJobs != imports {
		t.Errorf("re-download: %+v (was %+v), %d export jobs", again.Export, res.Export, p.src.srv.Stats().ExportJobs)
	}
	mode0600(t, res.ExportFile)
}

// What a migrate refuses before any request (exit 2): a report that
// exists, a resume that changes what the migrate means or reaches another
// tenant, a report that is no migrate's, --hashes with --upsert. And
// a second migrate of the same report while the first runs (its journal
// is locked: exit 1).
func TestMigrateRefusals(t *testing.T) {
	p := newPair(t, sandbox.Config{JobDelay: -1}, sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, 3)
	o := p.options()
	if _, err := p.migrate(context.Background(), p.env(), o); err != nil {
		t.Fatal(err)
	}
	calls := func() int64 { return p.src.calls.Load() + p.dst.calls.Load() }
	before := calls()
	other := p.env()
	other.Import.Target.Domain = "other.eu.auth0.com"
	imported := p.options()
	imported.Report = p.dir + "/imported.ndjson"
	os.WriteFile(imported.Report, []byte(`{"status":"run","run":{"mode":"import"}}`+"\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  Env
		o    func(Options) Options
		want string
	}{
		{"report exists", p.env(), func(Options) Options { return o }, "exists: a0bulk migrate --resume"},
		{"another target connection", p.env(), func(r Options) Options { r.ToConnection = "Other"; return r }, `target connection is "Username-Password-Authentication", not "Other"`},
		{"upsert added", p.env(), func(r Options) Options { r.Upsert = true; return r }, "run without --upsert, this run with it"},
		{"another target", other, func(r Options) Options { return r }, "the migrate's target is 127.0.0.1"},
		{"hashes with upsert", p.env(), func(Options) Options {
			h := o
			h.Report, h.Hashes, h.Upsert = p.dir+"/h.ndjson", "hashes.ndjson", true
			return h
		}, "--hashes cannot go with --upsert"},
		{"report of an import", p.env(), func(Options) Options {
			return Options{FromConnection: dbConn, ToConnection: dbConn, Resume: imported.Report}
		}, "no migrate journal"},
		{"no connection", p.env(), func(Options) Options { return Options{ToConnection: dbConn, Report: p.dir + "/x.ndjson"} }, "--from-connection is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := Options{FromConnection: dbConn, ToConnection: dbConn, Resume: o.Report}
			_, err := p.migrate(context.Background(), tc.env, tc.o(base))
			var usage *run.UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a usage error saying %q", err, tc.want)
			}
			if calls() != before {
				t.Errorf("%d requests were sent", calls()-before)
			}
		})
	}

	j, err := openJournal(JournalPath(o.Report), p.clk)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	_, err = p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("a second migrate of a running one: %v", err)
	}
}
