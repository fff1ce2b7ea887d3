package report

// Summary is what `a0bulk report summary` prints.
type Summary struct {
	Header RunHeader `json:"run"`
	// Final counts records per final status; every final status is present.
	Final map[Status]int `json:"final"`
	// Records is the number of distinct records with a final line.
	Records             int `json:"records"`
	VerificationSent    int `json:"verification_sent"`
	VerificationFailed  int `json:"verification_failed"`
	VerificationSkipped int `json:"verification_skipped"`
	ChunksSubmitted     int `json:"chunks_submitted"`
	JobsFinished        int `json:"jobs_finished"`
	// InFlight counts records queued or sending with no final line: the run
	// was interrupted and can be resumed.
	InFlight int `json:"in_flight"`
	Resumes  int `json:"resumes"`
	// Retries counts the resumes that were retries (--retry-failed).
	Retries int `json:"retries"`
	// Reasons are the most frequent reasons of the records that failed or
	// are invalid (by their latest final line), and of failed
	// verification emails.
	Reasons []Reason `json:"reasons,omitempty"`
	// Torn: the last line was incomplete (the run was killed mid-write).
	Torn bool `json:"torn"`
	// Duplicates lists records with more than one final line, which breaks
	// the report's invariant and means a bug.
	Duplicates []Duplicate `json:"duplicates,omitempty"`
	// VerificationPending counts verification emails requested whose
	// outcome the report does not hold.
	VerificationPending int `json:"verification_pending"`
	// End is the end-of-run line of the last run (nil: it wrote none).
	End *End `json:"end,omitempty"`
	// Progress says whether the run is complete, and how far it got.
	Progress Progress `json:"progress"`
}

// Duplicate is a record with more than one final line.
type Duplicate struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Record int    `json:"record,omitempty"`
	// ReportLines are the report's line numbers of its final lines, in order.
	ReportLines []int    `json:"report_lines"`
	Statuses    []Status `json:"statuses"`
}

// AllSucceeded reports whether every record succeeded (exit code 0).
func (s Summary) AllSucceeded() bool {
	return Tally{Final: s.Final}.AllSucceeded()
}

// Complete reports whether nothing is left to resume.
func (s Summary) Complete() bool { return s.InFlight == 0 }

// Summarize reads a report and counts it. It holds one small entry per
// record (not the lines), so large reports are fine.
func Summarize(path string) (Summary, error) {
	tr := newTracker()
	dups := make(map[Key]int)     // key → index in Duplicates
	firstDup := make(map[int]Key) // report line of a record's first duplicate → the record
	var sum Summary
	// Only failures and invalid records give reasons, read whole.
	lean := func(st Status) bool { return st == Queued || st.Succeeded() }
	res, err := scanLean(path, lean, func(e *Entry, lineNo int) error {
		first, dup := tr.apply(e, lineNo)
		if !dup {
			return nil
		}
		k := e.Key()
		i, ok := dups[k]
		if !ok {
			i = len(sum.Duplicates)
			dups[k] = i
			firstDup[lineNo] = k
			sum.Duplicates = append(sum.Duplicates, Duplicate{
				File: k.File, Line: k.Line, Record: k.Record,
				ReportLines: []int{0}, Statuses: []Status{first.status},
			})
		}
		d := &sum.Duplicates[i]
		d.ReportLines = append(d.ReportLines, lineNo)
		d.Statuses = append(d.Statuses, e.Status)
		return nil
	}, nil)
	if err != nil {
		return Summary{}, err
	}
	if len(firstDup) > 0 {
		if err := firstFinalLines(path, dups, firstDup, sum.Duplicates); err != nil {
			return Summary{}, err
		}
	}
	t := tr.tally
	sum.Header = res.header
	sum.Final = make(map[Status]int, len(FinalStatuses))
	for _, st := range FinalStatuses {
		sum.Final[st] = t.Final[st]
	}
	sum.Records = t.Records
	sum.VerificationSent, sum.VerificationFailed, sum.VerificationSkipped = t.VerificationSent, t.VerificationFailed, t.VerificationSkipped
	sum.ChunksSubmitted, sum.JobsFinished = t.ChunksSubmitted, t.JobsFinished
	sum.InFlight = tr.inFlight()
	sum.Resumes, sum.Retries, sum.Torn = res.resumes, res.retries, res.torn
	sum.Reasons = tr.reasons.top(MaxReasons)
	sum.VerificationPending, sum.End = t.VerificationPending, res.end
	sum.Progress = JudgeRun(sum.Header.Mode, res.end, t, sum.InFlight)
	return sum, nil
}

// firstFinalLines fills in the report line of each duplicated record's
// first final line. The tracker keeps one byte per record, not where its
// final line is, so the (rare) report holding duplicates is read again.
func firstFinalLines(path string, dups map[Key]int, firstDup map[int]Key, out []Duplicate) error {
	first := make(map[Key]int, len(dups)) // the final line standing for each duplicated record
	_, err := scan(path, func(e *Entry, lineNo int) error {
		k := e.Key()
		if _, ok := dups[k]; !ok {
			return nil
		}
		switch {
		case e.Status == Retrying:
			delete(first, k) // a retry supersedes the failed line: not a duplicate
		case e.Status.IsFinal():
			if dk, ok := firstDup[lineNo]; ok && dk == k {
				out[dups[k]].ReportLines[0] = first[k]
			}
			if _, ok := first[k]; !ok {
				first[k] = lineNo
			}
		}
		return nil
	})
	return err
}
