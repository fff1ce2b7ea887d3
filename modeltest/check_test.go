package modeltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// reportLine is what the checks read of a report line. Record is the
// record's ordinal in its file where the report gives one (a report keyed
// by line alone cannot tell apart records that share a line).
type reportLine struct {
	File   string        `json:"file"`
	Line   int           `json:"line"`
	Record int           `json:"record"`
	Email  string        `json:"email"`
	Status report.Status `json:"status"`
	Code   string        `json:"code"`
	Reason string        `json:"reason"`
}

func (l reportLine) String() string {
	s := fmt.Sprintf("%s %s", l.Status, l.Email)
	if l.Code != "" {
		s += " " + l.Code
	}
	if l.Reason != "" {
		s += ": " + l.Reason
	}
	return s
}

// mismatches collects what the report says that the tenant contradicts.
type mismatches []string

func (m *mismatches) addf(format string, args ...any) { *m = append(*m, fmt.Sprintf(format, args...)) }

// tenantView is who the tenant holds, by lower-cased email.
type tenantView map[string]bool

// expectation is one completed run (import or create with its resumes, or
// the last sync of a round) to check: its report, its input, the tenant
// before its first attempt and now, and the summary its last attempt
// returned.
type expectation struct {
	report      string
	input       string
	recs        []*record
	before, now tenantView
	summary     *run.Summary
}

// check proves the promise for one completed run: every input record has
// exactly one final line, each line's status is true of the tenant, the
// counts are the tenant's. It returns the report's final counts.
func (x expectation) check(all *mismatches) map[report.Status]int {
	m := &mismatches{}
	defer func() {
		for _, s := range *m {
			all.addf("%s: %s", filepath.Base(x.report), s)
		}
	}()
	finals := readFinals(x.report, x.input, x.recs, m, false)
	counts := map[report.Status]int{}
	created := 0
	for _, r := range x.recs {
		l, ok := finals[r.ordinal]
		if !ok {
			m.addf("record %d (line %d, %s) has no final line", r.ordinal, r.line, r.email)
			continue
		}
		counts[l.Status]++
		if !strings.EqualFold(l.Email, r.written) {
			m.addf("record %d (line %d): final line names %q, the record is %q", r.ordinal, r.line, l.Email, r.written)
		}
		k := r.key()
		pre, in := x.before[k], x.now[k]
		if r.invalid {
			if l.Status != report.Invalid {
				m.addf("record %d (line %d, %s) is invalid input but ended %s", r.ordinal, r.line, r.email, l)
			}
		} else if l.Status == report.Invalid {
			m.addf("record %d (line %d, %s) is valid input but ended %s", r.ordinal, r.line, r.email, l)
		}
		var truth string
		switch l.Status {
		case report.Created:
			if !in || pre {
				truth = "created, but " + where(pre, in)
			}
			created++
		case report.Imported:
			if !in {
				truth = "imported, but " + where(pre, in)
			}
			if !pre {
				created++
			}
		case report.Updated:
			if !in || !pre {
				truth = "updated, but " + where(pre, in)
			}
		case report.Skipped:
			if !pre {
				truth = "skipped, but " + where(pre, in)
			}
		case report.Failed, report.Invalid:
			if in && !pre {
				truth = string(l.Status) + ", but " + where(pre, in)
			}
		}
		if truth != "" {
			m.addf("record %d (line %d): report says %s (%s)", r.ordinal, r.line, truth, l)
		}
	}
	// The other way round: every user the run added is one of its records,
	// reported created (or imported by an upsert job).
	emails := map[string]bool{}
	for _, r := range x.recs {
		emails[r.key()] = true
	}
	added := 0
	for k := range x.now {
		if x.before[k] {
			continue
		}
		added++
		if !emails[k] {
			m.addf("the tenant gained %s, which is no record of the input", k)
		}
	}
	if created != added {
		m.addf("the report counts %d users added (created, or imported and new), the tenant gained %d", created, added)
	}
	if s := x.summary; s != nil {
		if s.Records != len(x.recs) {
			m.addf("summary: %d records, the input has %d", s.Records, len(x.recs))
		}
		for _, st := range report.FinalStatuses {
			if s.Counts[string(st)] != counts[st] {
				m.addf("summary: %s %d, the report's final lines say %d", st, s.Counts[string(st)], counts[st])
			}
		}
	}
	return counts
}

func where(pre, in bool) string {
	switch {
	case pre:
		return "the user was in the tenant before the run"
	case in:
		return "this run added the user to the tenant"
	}
	return "the user is not in the tenant"
}

// readFinals maps each record to its one final line, reporting lines that
// name no record, name several, or end a record twice. A report that
// gives a record ordinal is matched by it; one that does not, by line,
// which only works while every record has a line of its own.
// A killed sync's report is never resumed, so its last line may be torn
// (allowTorn): an unparseable last line without a newline is then skipped.
func readFinals(path, input string, recs []*record, m *mismatches, allowTorn bool) map[int]reportLine {
	byLine := map[int][]*record{}
	for _, r := range recs {
		byLine[r.line] = append(byLine[r.line], r)
	}
	out := map[int]reportLine{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && allowTorn {
		return out // killed before it wrote its report
	}
	if err != nil {
		m.addf("reading the report: %v", err)
		return out
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	for i, raw := range lines {
		n := i + 1
		if len(raw) == 0 {
			continue
		}
		var l reportLine
		if err := json.Unmarshal(raw, &l); err != nil {
			if allowTorn && i == len(lines)-1 && !bytes.HasSuffix(raw, []byte{'\n'}) {
				continue
			}
			m.addf("report line %d does not parse (%v): %.120q", n, err, raw)
			continue
		}
		if !l.Status.IsFinal() {
			continue
		}
		if l.File != input {
			m.addf("report line %d names file %q, the input is %q", n, l.File, input)
			continue
		}
		var ord int
		switch {
		case l.Record > 0:
			ord = l.Record
		case len(byLine[l.Line]) == 1:
			ord = byLine[l.Line][0].ordinal
		case len(byLine[l.Line]) == 0:
			m.addf("report line %d (%s) names line %d, where no record starts", n, l, l.Line)
			continue
		default:
			m.addf("report line %d (%s) names line %d, where %d records start, and no record ordinal: it cannot say which",
				n, l, l.Line, len(byLine[l.Line]))
			continue
		}
		if prev, dup := out[ord]; dup {
			m.addf("record %d (line %d) has two final lines: %s, then %s at report line %d", ord, l.Line, prev, l, n)
			continue
		}
		out[ord] = l
	}
	return out
}
