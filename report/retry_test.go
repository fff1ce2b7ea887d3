package report

import (
	"errors"
	"testing"
)

// A retrying line supersedes a record's failed line: its next final line
// is its outcome, counted once (the writer used to refuse it as a second
// final line, and a summary to call it a duplicate).
func TestRetryingSupersedesAFailedLine(t *testing.T) {
	w, path, _ := newReport(t)
	a := Entry{File: "users.csv", Line: 2, Email: "a@example.com"}
	b := Entry{File: "users.csv", Line: 3, Email: "b@example.com"}
	rec(t, w,
		with(a, Failed, "JOB_FAILED"), with(b, Failed, "JOB_FAILED"),
		with(a, Retrying, "JOB_FAILED"), with(a, Queued, ""),
	)
	if got := w.Tally(); got.Final[Failed] != 1 || got.Records != 1 || w.InFlight() != 1 {
		t.Fatalf("while retrying: %+v, in flight %d; want 1 failed record and 1 in flight", got, w.InFlight())
	}
	// b's failed line stands; a's was superseded.
	rec(t, w, with(a, Created, ""))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 2 || sum.Final[Created] != 1 || sum.Final[Failed] != 1 || len(sum.Duplicates) != 0 || sum.InFlight != 0 {
		t.Fatalf("summary %+v, want 2 records: created 1, failed 1, no duplicates", sum)
	}
	if len(sum.Reasons) != 1 || sum.Reasons[0].Count != 1 || sum.Reasons[0].Code != "JOB_FAILED" {
		t.Fatalf("reasons %+v, want JOB_FAILED once (a's failure was superseded)", sum.Reasons)
	}
	st := mustLoad(t, path)
	if finalOf(st, a.Key()).Status != Created || len(st.Retried) != 0 {
		t.Fatalf("a is %+v, retried %v; want created, nothing left retried", finalOf(st, a.Key()), st.Retried)
	}
}

// Only a failed record can be retried, and only once per failed line.
func TestRetryingRefused(t *testing.T) {
	w, _, _ := newReport(t)
	a := Entry{File: "users.csv", Line: 2, Email: "a@example.com"}
	b := Entry{File: "users.csv", Line: 3, Email: "b@example.com"}
	rec(t, w, with(a, Created, ""))
	if err := w.Record(with(a, Retrying, "")); !errors.Is(err, ErrAlreadyFinal) {
		t.Fatalf("retrying a created record: %v, want ErrAlreadyFinal", err)
	}
	if err := w.Record(with(b, Retrying, "")); err == nil {
		t.Fatal("retrying a record without a final line was accepted")
	}
	rec(t, w, with(b, Failed, "X"), with(b, Retrying, "X"))
	if err := w.Record(with(b, Retrying, "X")); err == nil {
		t.Fatal("a second retrying line without a new failed line was accepted")
	}
}

// A retry killed between a record's retrying line and its new final line
// leaves the record unsettled: the report is incomplete (the retry's
// resumed line ended the earlier run's end), and the state names the
// record as retried, so that a resume looks it up before sending it.
func TestRetryKilledBeforeTheNewFinalLine(t *testing.T) {
	w, path, clk := newReport(t)
	a := Entry{File: "users.csv", Line: 2, Email: "a@example.com"}
	rec(t, w, with(a, Failed, "JOB_FAILED"))
	if err := w.End(End{Outcome: EndComplete, RecordsRead: 1, InputRead: true, Final: 1}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if sum, _ := Summarize(path); sum.Progress.State != StateComplete {
		t.Fatalf("before the retry: %s", sum.Progress)
	}
	w, _, err := AppendFor(path, clk, ForRetry)
	if err != nil {
		t.Fatal(err)
	}
	rec(t, w, with(a, Retrying, "JOB_FAILED"))
	w.Close() // killed: no final line, no end line

	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Progress.State != StateIncomplete || sum.InFlight != 1 || sum.Records != 0 || sum.Retries != 1 || sum.Resumes != 1 {
		t.Fatalf("summary %+v (%s), want incomplete with 1 in flight, 1 retry", sum, sum.Progress)
	}
	st := mustLoad(t, path)
	if st.Done(a.Key()) || st.Retries != 1 {
		t.Fatalf("a done %v, retries %d: want not done, 1 retry", st.Done(a.Key()), st.Retries)
	}
	if _, ok := st.Retried[a.Key()]; !ok {
		t.Fatalf("a is not among the retried records %v", st.Retried)
	}
}

// verify --report appends verification lines to a finished run's report:
// the run stays complete (a verify used to count as a resume that never
// ended, so the report read "incomplete… resume with import --resume").
func TestVerifyAppendKeepsTheRunsEnd(t *testing.T) {
	w, path, clk := newReport(t)
	a := Entry{File: "users.csv", Line: 2, Email: "a@example.com"}
	rec(t, w, with(a, Created, ""))
	if err := w.End(End{Outcome: EndComplete, RecordsRead: 1, InputRead: true, Final: 1}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, _, err := AppendFor(path, clk, ForVerify)
	if err != nil {
		t.Fatal(err)
	}
	rec(t, w, with(a, VerificationSkipped, CodeEmailVerified))
	w.Close()
	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Progress.State != StateComplete || sum.Resumes != 0 || sum.VerificationSkipped != 1 {
		t.Fatalf("summary %+v (%s), want complete, no resume, 1 verification skipped", sum, sum.Progress)
	}
	if st := mustLoad(t, path); st.End() == nil || verificationOf(st, a.Key()).Status != VerificationSkipped {
		t.Fatalf("state end %v, verified %+v", st.End(), verificationOf(st, a.Key()))
	}
}

// The summary's reasons are the most frequent first, each with one example.
func TestReasonsMostFrequentFirst(t *testing.T) {
	w, path, _ := newReport(t)
	for i := 2; i < 9; i++ {
		code := "USER_NOT_FOUND"
		if i%3 == 0 {
			code = "JOB_FAILED"
		}
		e := Entry{File: "users.csv", Line: i, Email: "x@example.com", Reason: "why"}
		rec(t, w, with(e, VerificationFailed, code))
	}
	rec(t, w, with(Entry{File: "users.csv", Line: 20, Reason: "email: not an email"}, Invalid, "INVALID"))
	w.Close()
	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Reason{
		{Status: VerificationFailed, Code: "USER_NOT_FOUND", Count: 5, Example: "users.csv:2: why"},
		{Status: VerificationFailed, Code: "JOB_FAILED", Count: 2, Example: "users.csv:3: why"},
		{Status: Invalid, Code: "INVALID", Count: 1, Example: "users.csv:20: email: not an email"},
	}
	if len(sum.Reasons) != len(want) {
		t.Fatalf("reasons %+v, want %+v", sum.Reasons, want)
	}
	for i := range want {
		if sum.Reasons[i] != want[i] {
			t.Fatalf("reason %d: %+v, want %+v", i, sum.Reasons[i], want[i])
		}
	}
}

func with(e Entry, st Status, code string) Entry {
	e.Status, e.Code = st, code
	if st == Queued {
		e.Chunk = 1
	}
	return e
}
