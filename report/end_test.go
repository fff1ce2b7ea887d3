package report

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

func TestJudge(t *testing.T) {
	done := &End{Outcome: EndComplete, RecordsRead: 10, InputRead: true, Final: 10}
	for _, tc := range []struct {
		name                     string
		end                      *End
		final, inFlight, pending int
		want                     RunState
		text                     string
	}{
		{"complete", done, 10, 0, 0, StateComplete, "complete: 10 of 10 records final"},
		{"killed: no end line", nil, 10, 0, 0, StateIncomplete, "the run did not end"},
		{"stopped between chunks", &End{Outcome: EndStopped, RecordsRead: 4963}, 4963, 0, 0, StateIncomplete, "4963 read before the run stopped"},
		{"stopped after reading everything", &End{Outcome: EndStopped, RecordsRead: 10, InputRead: true}, 8, 2, 0, StateIncomplete, "8 of 10 records final, 2 sent and not settled"},
		{"failed", &End{Outcome: EndFailed, RecordsRead: 10, InputRead: true}, 10, 0, 0, StateIncomplete, "incomplete: 10 of 10"},
		{"ended complete but short", &End{Outcome: EndComplete, RecordsRead: 10, InputRead: true}, 9, 0, 0, StateIncomplete, "9 of 10"},
		{"emails unknown", done, 10, 0, 3, StateNeedsVerify, "3 verification emails of unknown outcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Judge(tc.end, tc.final, tc.inFlight, tc.pending)
			if p.State != tc.want || !strings.Contains(p.String(), tc.text) {
				t.Fatalf("Judge = %s %q, want %s containing %q", p.State, p, tc.want, tc.text)
			}
		})
	}
}

// The end-of-run line is read back; a resume after it (and no end of its
// own: killed) makes the report incomplete again.
func TestEndOfRunLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.ndjson")
	clk := clock.NewFake(time.Unix(0, 0))
	w, err := Create(path, RunHeader{Mode: "import", Keys: KeysByRecord}, clk)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Record(Entry{File: "f", Line: 1, Record: 1, Status: Created}); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(path)
	if err != nil || sum.Progress.State != StateIncomplete || sum.Progress.Ended {
		t.Fatalf("before the end line: %+v %v", sum.Progress, err)
	}
	if err := w.End(End{Outcome: EndComplete, RecordsRead: 1, InputRead: true, Final: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err = Summarize(path)
	if err != nil || sum.Progress.State != StateComplete || sum.End == nil || sum.Progress.Records != 1 {
		t.Fatalf("after the end line: %+v %v", sum.Progress, err)
	}
	w, _, err = Append(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	sum, err = Summarize(path)
	if err != nil || sum.Progress.State != StateIncomplete || sum.End != nil {
		t.Fatalf("resumed and killed: %+v %v", sum.Progress, err)
	}
}
