package report

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestSummarizeDuplicates(t *testing.T) {
	path, full := writeReport(t,
		Entry{File: "f", Line: 1, Status: Created},
		Entry{File: "f", Line: 2, Status: Failed, Code: "x"},
		Entry{File: "f", Line: 3, Status: Sending},
	)
	// A buggy writer gave record f:1 two more final lines: the writer would
	// refuse, so write them by hand.
	lines := strings.SplitAfter(string(full), "\n")
	bad := string(full) + strings.Replace(lines[1], `"created"`, `"failed"`, 1) + lines[1]
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Duplicate{{File: "f", Line: 1, ReportLines: []int{2, 5, 6}, Statuses: []Status{Created, Failed, Created}}}
	if !reflect.DeepEqual(sum.Duplicates, want) {
		t.Fatalf("duplicates\n got %+v\nwant %+v", sum.Duplicates, want)
	}
	// The first final line counts; the duplicates do not.
	if sum.Records != 2 || sum.Final[Created] != 1 || sum.Final[Failed] != 1 || sum.InFlight != 1 || sum.Complete() {
		t.Fatalf("summary %+v", sum)
	}
	for _, st := range FinalStatuses {
		if _, ok := sum.Final[st]; !ok {
			t.Errorf("status %s missing from summary", st)
		}
	}
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Duplicates) != 2 || finalOf(st, Key{File: "f", Line: 1}).Status != Created {
		t.Fatalf("load: duplicates %v, final %v", st.Duplicates, finalOf(st, Key{File: "f", Line: 1}))
	}
}

func TestSummarizeCounts(t *testing.T) {
	path, full := writeReport(t,
		Entry{File: "a.csv", Line: 1, Status: Queued, Chunk: 1},
		Entry{File: "a.csv", Line: 2, Status: Queued, Chunk: 1},
		Entry{Status: Submitted, Chunk: 1, JobID: "job_1"},
		Entry{File: "a.csv", Line: 1, Status: Imported, JobID: "job_1"},
		Entry{File: "a.csv", Line: 2, Status: Skipped, Code: "DUPLICATED_USER", JobID: "job_1"},
		Entry{File: "a.csv", Line: 3, Status: Invalid, Reason: "email"},
		Entry{File: "a.csv", Line: 1, Status: VerificationSent, JobID: "v"},
	)
	// Torn tail: counted as torn, not as an error.
	if err := os.WriteFile(path, append(full, `{"file":"a.csv","li`...), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Status]int{Created: 0, Updated: 0, Imported: 1, Skipped: 1, Invalid: 1, Failed: 0}
	if !reflect.DeepEqual(sum.Final, want) || sum.Records != 3 || sum.VerificationSent != 1 ||
		sum.ChunksSubmitted != 1 || sum.JobsFinished != 1 || !sum.Torn || !sum.Complete() ||
		sum.AllSucceeded() || sum.Header.Mode != "import" {
		t.Fatalf("summary %+v", sum)
	}
}
