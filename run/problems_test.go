package run

import (
	"fmt"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/report"
)

// A job that failed gives every record of its chunk the job's reason: the
// problem list names the job once, with its record count, and still has
// room for records that failed on their own (it used to print ten
// identical JOB_FAILED lines and nothing else).
func TestProblemsGroupAFailedJob(t *testing.T) {
	var p problemCollector
	for i := 0; i < 250; i++ {
		p.Observe(report.Entry{File: "users.csv", Line: 40 + i, Record: 39 + i, Status: report.Failed, Chunk: 2, JobID: "job_b",
			Code: jobs.CodeJobFailed, Reason: "Internal error: the users file could not be processed"})
		if i == 3 {
			p.Observe(report.Entry{File: "users.csv", Line: 7, Record: 6, Status: report.Failed, Chunk: 1, JobID: "job_a",
				Code: "PATTERN", Reason: "password_hash: does not match"})
		}
	}
	for i := 0; i < 30; i++ { // a chunk whose POST was refused: no job
		p.Observe(report.Entry{File: "users.csv", Line: 300 + i, Record: 299 + i, Status: report.Failed, Chunk: 3,
			Code: jobs.CodePayloadTooLarge, Reason: "too large"})
	}
	got := p.list()
	want := []string{
		"chunk 2 (job_b): 250 records failed JOB_FAILED, from users.csv:40 (record 39): Internal error: the users file could not be processed",
		"users.csv:7 (record 6): failed PATTERN: password_hash: does not match",
		"chunk 3: 30 records failed PAYLOAD_TOO_LARGE, from users.csv:300 (record 299): too large",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The list stays bounded: new problems beyond maxProblems lines are left
// to the report, while a job already listed keeps counting its records.
func TestProblemsBounded(t *testing.T) {
	var p problemCollector
	p.Observe(report.Entry{File: "u.csv", Line: 2, Record: 1, Status: report.Failed, Chunk: 1, JobID: "job_a", Code: jobs.CodeJobFailed, Reason: "x"})
	for i := 0; i < 20; i++ {
		p.Observe(report.Entry{File: "u.csv", Line: 10 + i, Record: 9 + i, Status: report.Invalid, Code: "INVALID", Reason: "email: bad"})
	}
	p.Observe(report.Entry{File: "u.csv", Line: 3, Record: 2, Status: report.Failed, Chunk: 1, JobID: "job_a", Code: jobs.CodeJobFailed, Reason: "x"})
	p.Observe(report.Entry{File: "u.csv", Line: 4, Record: 3, Status: report.Failed, Chunk: 2, JobID: "job_b", Code: jobs.CodeJobFailed, Reason: "x"})
	got := p.list()
	if len(got) != maxProblems || got[0] != fmt.Sprintf("chunk 1 (job_a): 2 records failed %s, from u.csv:2 (record 1): x", jobs.CodeJobFailed) {
		t.Fatalf("problems %q", got)
	}
}
