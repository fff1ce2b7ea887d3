package migrate

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/sandbox"
)

// The child's instructions: where to kill itself, the tenants, the report.
const (
	killPoint  = "A0BULK_MIGRATE_KILL"
	killSrc    = "A0BULK_MIGRATE_KILL_SRC"
	killDst    = "A0BULK_MIGRATE_KILL_DST"
	killReport = "A0BULK_MIGRATE_KILL_REPORT"
)

// killUsers and killChunk make an import of several jobs.
const (
	killUsers = 60
	killChunk = 3000
)

// A migrate SIGKILLed at each point of its run, then resumed, ends with
// every source user in the target exactly once and each record with one
// final line, and never exports twice: killed once its export job is
// journalled (the resume waits for that job), between the export and the
// import (the file is read again, checked by its sha256), with an import
// job submitted and not settled (the resume reads it), and with part of
// the records final. The migrate runs in a child process (this test
// binary again) that kills itself at the point; the tenants live here.
func TestMigrateKilledAndResumed(t *testing.T) {
	if point := os.Getenv(killPoint); point != "" {
		childMigrate(t, point)
		return
	}
	for _, tc := range []struct {
		point string
		// after the kill: the journal's events, the export file and the
		// report there or not
		events         []string
		file, reported bool
		reused         bool // the resume reads the file the child downloaded
	}{
		{"export-started", []string{"migrate", "export_started"}, false, false, false},
		{"after-export", []string{"migrate", "export_started", "exported"}, true, false, true},
		{"import-submitted", []string{"migrate", "export_started", "exported"}, true, true, true},
		{"import-finals=25", []string{"migrate", "export_started", "exported"}, true, true, true},
	} {
		t.Run(tc.point, func(t *testing.T) {
			p, o := killedPair(t, tc.point)
			if got := journalEvents(t, o.Report); !slices.Equal(got, tc.events) {
				t.Fatalf("journal after the kill: %v, want %v", got, tc.events)
			}
			if exists(o.Report+exportSuffix) != tc.file || reportStarted(o.Report) != tc.reported {
				t.Fatalf("after the kill: export file %v, report %v", exists(o.Report+exportSuffix), reportStarted(o.Report))
			}
			res, err := p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			sameUsers(t, p.src, p.dst)
			if n := len(finals(t, o.Report)); n != killUsers {
				t.Errorf("%d records final, want %d", n, killUsers)
			}
			if st := p.src.srv.Stats(); st.ExportJobs != 1 {
				t.Errorf("the source ran %d export jobs", st.ExportJobs)
			}
			if res.Reused != tc.reused || res.Proof.Moved != killUsers || res.Proof.Difference() != 0 {
				t.Errorf("resume reused the file: %v; proof %+v", res.Reused, res.Proof)
			}
			want := append(slices.Clone(tc.events), "resumed")
			if !tc.file {
				want = append(want, "exported")
			}
			if got := journalEvents(t, o.Report); !slices.Equal(got, append(want, "proved")) {
				t.Errorf("journal %v", got)
			}
		})
	}
}

// Killed between the export and the import, with the file lost and the
// job's data gone (24 hours later): nothing was imported over that file,
// so a new export is run, and the journal says the old one was lost.
// Killed during the import, the same loss is refused (exit 2): the
// report is tied to the lost file's bytes, and no new file may carry it
// on.
func TestMigrateKilledThenFileAndJobLost(t *testing.T) {
	if point := os.Getenv(killPoint); point != "" {
		childMigrate(t, point)
		return
	}
	t.Run("before the import", func(t *testing.T) {
		p, o := killedPair(t, "after-export")
		os.Remove(o.Report + exportSuffix)
		p.clk.Advance(25 * time.Hour)
		res, err := p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		sameUsers(t, p.src, p.dst)
		if st := p.src.srv.Stats(); st.ExportJobs != 2 || !res.Downloaded || res.Reused {
			t.Errorf("%d export jobs; result %+v", st.ExportJobs, res)
		}
		want := []string{"migrate", "export_started", "exported", "resumed", "export_lost", "export_started", "exported", "proved"}
		if got := journalEvents(t, o.Report); !slices.Equal(got, want) {
			t.Errorf("journal %v, want %v", got, want)
		}
	})
	t.Run("during the import", func(t *testing.T) {
		p, o := killedPair(t, "import-finals=25")
		os.Remove(o.Report + exportSuffix)
		p.clk.Advance(25 * time.Hour)
		_, err := p.migrate(context.Background(), p.env(), resumeOptions(t, o.Report))
		var usage *run.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "cannot be resumed over a new export") {
			t.Fatalf("resume: %v, want a usage error refusing a new export", err)
		}
		if st := p.src.srv.Stats(); st.ExportJobs != 1 {
			t.Errorf("%d export jobs", st.ExportJobs)
		}
	})
}

// killedPair starts two tenants, seeds the source and runs a migrate in
// a child process that SIGKILLs itself at point; it returns the tenants
// and the options of the killed migrate.
func killedPair(t *testing.T, point string) (*pair, Options) {
	t.Helper()
	p := newPair(t, sandbox.Config{JobDelay: -1}, sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, killUsers)
	o := p.options()
	cmd := exec.Command(os.Args[0], "-test.run=^"+strings.Split(t.Name(), "/")[0]+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), killPoint+"="+point, killSrc+"="+p.src.domain, killDst+"="+p.dst.domain, killReport+"="+o.Report)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended %v, want killed by SIGKILL\n%s", err, out)
	}
	return p, o
}

// childMigrate runs the migrate of the parent's tenants and kills itself
// (SIGKILL: nothing deferred runs, nothing is flushed) at point.
func childMigrate(t *testing.T, point string) {
	clk := clock.NewFake(start)
	srcDomain, dstDomain := os.Getenv(killSrc), os.Getenv(killDst)
	env := envFor(connectTo(t, srcDomain, clk), connectTo(t, dstDomain, clk), srcDomain, dstDomain, clk)
	kill := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	name, arg, _ := strings.Cut(point, "=")
	switch name {
	case "export-started":
		// The job is journalled before its first read.
		env.WatchJob = func() (func(*management.Job), func()) { return func(*management.Job) { kill() }, func() {} }
	case "after-export":
		env.afterExport = kill
	case "import-submitted":
		env.Import.Progress = func(run.Task) run.Progress {
			return &killAt{kill: kill, n: 1, counts: func(e report.Entry) bool { return e.Status == report.Submitted }}
		}
	case "import-finals":
		n, _ := strconv.Atoi(arg)
		env.Import.Progress = func(run.Task) run.Progress {
			return &killAt{kill: kill, n: n, counts: func(e report.Entry) bool { return e.Status.IsFinal() }}
		}
	default:
		t.Fatalf("unknown kill point %q", point)
	}
	o := Options{FromConnection: dbConn, ToConnection: dbConn, Report: os.Getenv(killReport), Settings: run.Defaults(), Version: "test"}
	o.Settings.ChunkBytes = killChunk
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), env, o)
		done <- err
	}()
	err := clk.Drive(250*time.Millisecond, done)
	t.Fatalf("the migrate returned (%v) instead of being killed at %s", err, point)
}

// killAt is an import's progress display that kills the process at the
// nth entry counts accepts: the journal has written that line already.
type killAt struct {
	kill   func()
	n      int
	counts func(report.Entry) bool
	seen   int
}

func (k *killAt) RecordRead()               {}
func (k *killAt) Waiting(string, time.Time) {}
func (k *killAt) Stop()                     {}
func (k *killAt) Observe(e report.Entry) {
	if k.counts(e) {
		if k.seen++; k.seen == k.n {
			k.kill()
		}
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
