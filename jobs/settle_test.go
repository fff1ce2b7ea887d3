package jobs

import (
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

func TestOutcomes(t *testing.T) {
	c := input.Chunk{Seq: 5, Records: []input.ChunkRecord{
		{File: "f", Line: 1, Email: "Ann@Example.com"},
		{File: "f", Line: 2, Email: "bob@example.com", UserID: "bob1"},
		{File: "f", Line: 3, Email: "cy@example.com"},
	}}
	dup := management.ImportErrorItem{Code: "DUPLICATED_USER", Message: "The user already exist and upsert parameter is false"}
	users := func(us ...management.UserImportError) *management.JobErrors {
		return &management.JobErrors{Kind: management.JobErrorsUsers, Users: us}
	}
	ue := func(email, id string, items ...management.ImportErrorItem) management.UserImportError {
		return management.UserImportError{User: management.ImportErrorUser{Email: email, UserID: id}, Errors: items}
	}
	type want struct {
		st   report.Status
		code string
		why  string
	}
	cases := []struct {
		name      string
		upsert    bool
		errs      *management.JobErrors
		want      [3]want
		unmatched int
	}{
		{"none", false, &management.JobErrors{Kind: management.JobErrorsNone},
			[3]want{{report.Created, "", ""}, {report.Created, "", ""}, {report.Created, "", ""}}, 0},
		{"empty users list", true, users(),
			[3]want{{report.Imported, "", ""}, {report.Imported, "", ""}, {report.Imported, "", ""}}, 0},
		{"duplicate skipped, email case-insensitive", false, users(ue("ann@EXAMPLE.com", "", dup)),
			[3]want{{report.Skipped, "DUPLICATED_USER", dup.Message}, {report.Created, "", ""}, {report.Created, "", ""}}, 0},
		{"duplicate with upsert is a failure", true, users(ue("ann@example.com", "", dup)),
			[3]want{{report.Failed, "DUPLICATED_USER", dup.Message}, {report.Imported, "", ""}, {report.Imported, "", ""}}, 0},
		{"joined by user_id when email is masked", false, users(ue("*****", "auth0|bob1", management.ImportErrorItem{Code: "PATTERN", Message: "bad phone", Path: "phone_number"})),
			[3]want{{report.Created, "", ""}, {report.Failed, "PATTERN", "phone_number: bad phone"}, {report.Created, "", ""}}, 0},
		{"joined by user_id when email is absent", false, users(ue("", "bob1", management.ImportErrorItem{Code: "FORMAT", Message: "x"})),
			[3]want{{report.Created, "", ""}, {report.Failed, "FORMAT", "x"}, {report.Created, "", ""}}, 0},
		{"several errors: first real code, messages joined", false, users(ue("cy@example.com", "", dup, management.ImportErrorItem{Code: "CONFLICT_USERNAME", Message: "username taken"})),
			[3]want{{report.Created, "", ""}, {report.Created, "", ""}, {report.Failed, "CONFLICT_USERNAME", dup.Message + "; username taken"}}, 0},
		{"unmatched error is returned", false, users(ue("nobody@example.com", "", dup), ue("*****", "", dup)),
			[3]want{{report.Created, "", ""}, {report.Created, "", ""}, {report.Created, "", ""}}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, unmatched := Outcomes(c, "job_9", tc.upsert, tc.errs)
			if len(unmatched) != tc.unmatched {
				t.Fatalf("unmatched = %d, want %d", len(unmatched), tc.unmatched)
			}
			if len(entries) != 3 {
				t.Fatalf("entries = %+v", entries)
			}
			for i, e := range entries {
				w := tc.want[i]
				if e.Status != w.st || e.Code != w.code || e.Reason != w.why {
					t.Errorf("record %d: %s %q %q, want %s %q %q", i, e.Status, e.Code, e.Reason, w.st, w.code, w.why)
				}
				if e.JobID != "job_9" || e.Chunk != 5 || e.Line != c.Records[i].Line || e.Email != c.Records[i].Email {
					t.Errorf("record %d: identity lost: %+v", i, e)
				}
			}
		})
	}
}
