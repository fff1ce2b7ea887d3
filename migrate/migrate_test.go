package migrate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/sandbox"
)

// A migrate end to end, driven without argv: one export job of the
// source, its file imported into the target in several import jobs, and
// the proof. Every source user is in the target exactly once, under the
// same user_id, with its profile, metadata and flags; each report line
// names the export file's line of the user it settled, whose user_id is
// the target user's; the three files are 0600; the journal holds one
// export and the proof.
func TestMigrateMovesEveryUser(t *testing.T) {
	p := newPair(t, sandbox.Config{JobDelay: 2 * time.Second}, sandbox.Config{JobDelay: 2 * time.Second, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, 40)
	o := p.options()
	o.Settings = run.Defaults()
	o.Settings.ChunkBytes = 4000 // several import jobs
	res, err := p.migrate(context.Background(), p.env(), o)
	if err != nil {
		t.Fatal(err)
	}
	sameUsers(t, p.src, p.dst)

	pr := res.Proof
	if pr == nil || pr.Source.Users != 40 || pr.Target.Users != 40 || pr.Moved != 40 || pr.Difference() != 0 ||
		pr.InTarget != 40 || pr.NotFromSource != 0 || pr.Source.JobID != res.Export.JobID || pr.Target.JobID == "" {
		t.Fatalf("proof %+v", pr)
	}
	if res.Reused || !res.Downloaded || res.Export.Users != 40 || res.Import == nil || res.Import.Counts["created"] != 40 {
		t.Errorf("result %+v", res)
	}
	for _, f := range []string{res.Report, res.Journal, res.ExportFile} {
		mode0600(t, f)
	}
	file, err := os.ReadFile(res.ExportFile)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := p.src.srv.ExportFile(res.Export.JobID); !bytes.Equal(file, want) {
		t.Error("the export file is not the source job's file")
	}
	if got := journalEvents(t, res.Report); !slices.Equal(got, []string{"migrate", "export_started", "exported", "proved"}) {
		t.Errorf("journal %v", got)
	}
	if st := p.src.srv.Stats(); st.ExportJobs != 1 || st.ImportJobs != 0 {
		t.Errorf("source: %d export jobs, %d import jobs", st.ExportJobs, st.ImportJobs)
	}
	if st := p.dst.srv.Stats(); st.ExportJobs != 1 || st.ImportJobs < 2 {
		t.Errorf("target: %d export jobs (the count), %d import jobs", st.ExportJobs, st.ImportJobs)
	}

	// The report ties every target user to its source user: line N of
	// the export file.
	ids := userIDsByLine(t, res.ExportFile)
	inTarget := map[string]bool{}
	for _, u := range p.dst.srv.Users() {
		inTarget[u.UserID] = true
	}
	lines := finals(t, res.Report)
	if len(lines) != 40 {
		t.Fatalf("%d final lines", len(lines))
	}
	for k, e := range lines {
		if e.Status != report.Created || k.File != res.ExportFile || !inTarget[ids[k.Line]] {
			t.Errorf("%s: %s, source user %q", k, e.Status, ids[k.Line])
		}
	}
}

// userIDsByLine reads an export file's user_id by line number.
func userIDsByLine(t *testing.T, path string) map[int]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var u struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out[n] = u.UserID
	}
	return out
}

// What the import did not bring over is explained user by user: invalid
// (never sent), failed (the target refused it), already there under the
// same id, already there under another id (the same email); the target's
// own users are counted apart. The run ends incomplete (exit 3), with
// the proof.
func TestMigrateExplainsTheDifference(t *testing.T) {
	p := newPair(t, sandbox.Config{JobDelay: time.Second}, sandbox.Config{JobDelay: time.Second, Faults: sandbox.Faults{Seed: 2}})
	seed(p.src, 10)
	p.src.srv.AddUser(management0("auth0|nomail", ""), dbConn) // no email: invalid for an import
	// In the target already: user 0 as it is; user 2's email under
	// another id; user 4's id with another email (a conflict); someone else.
	for _, u := range p.src.srv.Users() {
		if u.UserID == "auth0|000000000000000000000001" {
			p.dst.srv.AddUser(u.User, dbConn)
		}
	}
	p.dst.srv.AddUser(management0("auth0|other-2", "user2@example.com"), dbConn)
	p.dst.srv.AddUser(management0("auth0|000000000000000000000005", "someone.else@example.com"), dbConn)
	p.dst.srv.AddUser(management0("auth0|unrelated", "unrelated@example.com"), dbConn)

	res, err := p.migrate(context.Background(), p.env(), p.options())
	var inc *run.IncompleteError
	if !errors.As(err, &inc) || inc.Invalid != 1 || inc.Failed != 1 {
		t.Fatalf("err %v, want incomplete: 1 invalid, 1 failed", err)
	}
	pr := res.Proof
	want := Proof{Moved: 7, AlreadyThere: 1, OtherID: 1, Invalid: 1, Failed: 1, InTarget: 9, NotFromSource: 2}
	got := *pr
	got.Source, got.Target, got.Reasons, got.Examples = Count{}, Count{}, nil, nil
	if !reflect.DeepEqual(got, want) || pr.Source.Users != 11 || pr.Target.Users != 11 || pr.Difference() != 3 {
		t.Fatalf("proof %+v, want %+v, 11 and 11 users", *pr, want)
	}
	if len(pr.Reasons) != 2 || !strings.Contains(reasonCodes(pr.Reasons), "CONFLICT") {
		t.Errorf("reasons %+v", pr.Reasons)
	}
}

func reasonCodes(rs []report.Reason) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r.Status)+" "+r.Code)
	}
	return strings.Join(s, ", ")
}
