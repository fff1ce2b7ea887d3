package crashtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// inputRecord is what the test expects of one input record, read from the
// input independently of the binary (with the importer's own reader and
// validator, as the binary uses them).
type inputRecord struct {
	key   report.Key
	email string // lower-cased
	valid bool   // will be sent: the tenant must end up holding it
}

// writeInput generates n users into path and returns what each record is.
func writeInput(t *testing.T, path string, seed int64, n int, f input.Format, o gen.GenOptions) []inputRecord {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Users(seed, n, out, f, o); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := input.NewReader(in, path, f, input.Options{Mode: o.Mode})
	if err != nil {
		t.Fatal(err)
	}
	v := input.NewValidator(o.Mode)
	var recs []inputRecord
	ordinal := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("generated input %s cannot be read: %v", path, err)
		}
		v.Check(&rec)
		valid := rec.Valid()
		if o.Mode == input.ModeCreate && rec.Password == "" {
			valid = false // create without --random-password: invalid
		}
		ordinal++ // what the run calls the record: its place in the file
		recs = append(recs, inputRecord{key: report.Key{File: rec.File, Line: rec.Line, Record: ordinal}, email: strings.ToLower(rec.User.Email), valid: valid})
	}
	return recs
}

// checkOutcome proves the end state of a finished run: every input record
// has exactly one final line with the status its validity calls for, the
// tenant holds every valid user exactly once and nobody else, and the
// counts add up.
//
// One failure is legitimate: a create that got no answer maxAttempts times
// (a run killed while it was sending counts as one) and whose user the
// tenant does not hold ends `failed` UNKNOWN_FATE, for the operator to
// retry. Such records are returned (by lower-cased email), and must be
// absent from the tenant; checkTenant after the retry proves the rest.
func checkOutcome(t *testing.T, reportPath string, recs []inputRecord, srv *sandbox.Server, mode input.Mode) (lost map[string]bool) {
	t.Helper()
	finals := readFinals(t, reportPath)
	lost = map[string]bool{}

	want := make(map[report.Key]inputRecord, len(recs))
	for _, r := range recs {
		want[r.key] = r
	}
	for k := range finals {
		if _, ok := want[k]; !ok {
			t.Errorf("report has a final line for %s:%d, which is no input record", k.File, k.Line)
		}
	}
	if len(finals) != len(recs) {
		t.Errorf("report has %d records with a final line, the input has %d records", len(finals), len(recs))
	}

	users := tenantUsers(srv)
	counts := map[report.Status]int{}
	for _, r := range recs {
		e, ok := finals[r.key]
		if !ok {
			t.Errorf("%s:%d (%s) has no final line", r.key.File, r.key.Line, r.email)
			continue
		}
		counts[e.Status]++
		us := users[r.email]
		switch {
		case !r.valid:
			if e.Status != report.Invalid {
				t.Errorf("%s:%d is invalid in the input but %s in the report (%s %s)", r.key.File, r.key.Line, e.Status, e.Code, e.Reason)
			}
			continue
		case mode == input.ModeCreate && e.Status == report.Failed && e.Code == create.CodeUnknownFate:
			lost[r.email] = true
			if len(us) > 0 {
				t.Errorf("%s:%d (%s) is failed %s, but the tenant holds it: the report lies", r.key.File, r.key.Line, r.email, e.Code)
			}
			continue
		case e.Status != report.Created && e.Status != report.Skipped:
			t.Errorf("%s:%d (%s) ended %s (%s: %s); want created or skipped", r.key.File, r.key.Line, r.email, e.Status, e.Code, e.Reason)
		}
		if len(us) == 0 {
			t.Errorf("%s:%d (%s) is %s in the report but absent from the tenant", r.key.File, r.key.Line, r.email, e.Status)
			continue
		}
		if mode == input.ModeCreate && e.Status == report.Created && e.UserID != us[0].UserID {
			t.Errorf("%s:%d (%s) created as %q in the report, but the tenant's user is %q", r.key.File, r.key.Line, r.email, e.UserID, us[0].UserID)
		}
	}
	valid := validEmails(recs)
	checkTenant(t, srv, valid, lost)
	// Nobody was in the tenant before: each valid user is created once, and
	// any other valid record is a skip of it (its create's answer was lost).
	if counts[report.Created]+counts[report.Skipped]+len(lost) != len(valid) {
		t.Errorf("created %d + skipped %d + lost %d != %d valid records", counts[report.Created], counts[report.Skipped], len(lost), len(valid))
	}

	sum, err := report.Summarize(reportPath)
	if err != nil {
		t.Fatalf("report summary: %v", err)
	}
	if sum.InFlight != 0 {
		t.Errorf("report summary: %d records still in flight", sum.InFlight)
	}
	if len(sum.Duplicates) != 0 {
		t.Errorf("report summary: records with two final lines: %+v", sum.Duplicates)
	}
	if sum.Records != len(recs) {
		t.Errorf("report summary: %d records, want %d", sum.Records, len(recs))
	}
	if p := sum.Progress; p.State != report.StateComplete || p.Final != len(recs) || p.Records != len(recs) {
		t.Errorf("report summary: %s, want complete: %d of %d records final", p, len(recs), len(recs))
	}
	total := 0
	for _, st := range report.FinalStatuses {
		total += sum.Final[st]
		if sum.Final[st] != counts[st] {
			t.Errorf("report summary: %s %d, but the report's final lines say %d", st, sum.Final[st], counts[st])
		}
	}
	if total != len(recs) {
		t.Errorf("report summary: counts add up to %d, want %d", total, len(recs))
	}
	t.Logf("%d records: %v; tenant users %d; resumes %d", len(recs), counts, len(users), sum.Resumes)
	return lost
}

func validEmails(recs []inputRecord) map[string]bool {
	valid := map[string]bool{}
	for _, r := range recs {
		if r.valid {
			valid[r.email] = true
		}
	}
	return valid
}

// tenantUsers groups the tenant's users by lower-cased email.
func tenantUsers(srv *sandbox.Server) map[string][]sandbox.SandboxUser {
	users := map[string][]sandbox.SandboxUser{}
	for _, u := range srv.Users() {
		e := strings.ToLower(u.Email)
		users[e] = append(users[e], u)
	}
	return users
}

// checkTenant: the tenant holds each valid email exactly once, except the
// absent ones, and nobody else.
func checkTenant(t *testing.T, srv *sandbox.Server, valid, absent map[string]bool) {
	t.Helper()
	users := tenantUsers(srv)
	for e, us := range users {
		if len(us) > 1 {
			t.Errorf("the tenant holds %s %d times", e, len(us))
		}
		if !valid[e] {
			t.Errorf("the tenant holds %s, which is no valid input record", e)
		}
	}
	for e := range valid {
		if _, ok := users[e]; !ok && !absent[e] {
			t.Errorf("the tenant lacks %s", e)
		}
	}
	if len(users) != len(valid)-len(absent) {
		t.Errorf("the tenant holds %d users, want %d valid ones less %d absent", len(users), len(valid), len(absent))
	}
}

// readFinals parses every line of the report (a finished report has no
// torn line: resume drops it) and returns each record's final line (the
// latest: a retrying line supersedes a failed one), failing on a record
// with two.
func readFinals(t *testing.T, path string) map[report.Key]report.Entry {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %04o, want 0600", fi.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	finals := map[report.Key]report.Entry{}
	secrets := []string{clientSecret, `"password":`, `"password_hash":`, "$2b$10$", "Pw-"} // fields, generated hashes and passwords
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var e report.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("report line %d: %v: %q", n, err, sc.Text())
		}
		for _, s := range secrets {
			if strings.Contains(sc.Text(), s) {
				t.Errorf("report line %d holds a secret or password (%q)", n, s)
			}
		}
		if e.Status == report.Retrying {
			// --retry-failed supersedes the record's failed line.
			if prev, ok := finals[e.Key()]; !ok || prev.Status != report.Failed {
				t.Errorf("report line %d retries %s:%d, whose final line is %q, not failed", n, e.File, e.Line, prev.Status)
			}
			delete(finals, e.Key())
			continue
		}
		if !e.Status.IsFinal() {
			continue
		}
		if prev, dup := finals[e.Key()]; dup {
			t.Errorf("%s:%d has two final lines: %s (%s), then %s (%s) at report line %d", e.File, e.Line, prev.Status, prev.Code, e.Status, e.Code, n)
			continue
		}
		finals[e.Key()] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return finals
}
