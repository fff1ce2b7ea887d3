package progress

import (
	"fmt"
	"strings"
	"time"
)

// runSteps degrade a run's line for a narrow terminal, in order: the
// wordy forms first, then counts and jobs, the bar, the record count and
// the time left; the
// percentage and the wait (down to "waiting 12s") stay.
var runSteps = []step{
	{"wait", "shorten"}, {"eta", "shorten"}, {"jobs", "shorten"}, {"counts", "shorten"},
	{"main", "shorten"}, {"counts", "shorten"}, {"jobs", "drop"}, {"counts", "drop"},
	{"bar", "drop"}, {"main", "shorten"}, {"eta", "drop"}, {"wait", "cut"},
}

// items are the pieces of a run's line, in the order they show.
func (s snapshot) items() []item {
	var items []item
	if f, ok := s.fraction(); ok {
		items = append(items, item{kind: "bar", sep: " ", bar: true, of: f})
	}
	items = append(items, s.mainItem())
	if eta, ok := s.eta(); ok {
		left := fmtDur(ceilSeconds(eta)) // never "0s left" before the end
		items = append(items, item{kind: "eta", sep: " · ", variants: []string{"about " + left + " left", left + " left"}})
	}
	if c, ok := s.countsItem(); ok {
		items = append(items, c)
	}
	if s.jobs > 0 {
		items = append(items, item{kind: "jobs", sep: " · ", variants: []string{plural(s.jobs, "import job") + " running", fmt.Sprintf("%d jobs", s.jobs)}})
	}
	if s.waitWhat != "" {
		items = append(items, s.waitItem())
	}
	return items
}

// render is the run's line for a terminal cols wide.
func (s snapshot) render(cols int) string { return layout(s.command, s.items(), runSteps, cols) }

// plain is the run's line for a log.
func (s snapshot) plain() string { return plainLine("a0bulk "+s.command+":", s.items()) }

// byRecords: the total is known (every record read), so progress is
// records final of it.
func (s snapshot) byRecords() bool { return s.readAll }

// fraction is how far the run is, when that is known: records final of
// the total, else bytes read of the input's size.
func (s snapshot) fraction() (float64, bool) {
	switch {
	case s.byRecords() && s.read > 0:
		return float64(s.final()) / float64(s.read), true
	case !s.byRecords() && s.countsBytes && s.bytes > 0:
		return min(1, float64(s.bytesRead)/float64(s.bytes)), true
	}
	return 0, false
}

// final is the records done: final before this run, or in it.
func (s snapshot) final() int64 { return min(s.done+s.settled, s.read) }

// percent is f in whole percent, rounded down (100% only when all is
// done); the epsilon keeps 0.29 from showing as 28%.
func percent(f float64) string { return fmt.Sprintf("%d%%", int(f*100+1e-9)) }

func (s snapshot) mainItem() item {
	f, known := s.fraction()
	v := func(vs ...string) item { return item{kind: "main", sep: " ", variants: vs} }
	switch {
	case s.byRecords():
		if !known { // nothing to read
			return v("no records")
		}
		n := fmt.Sprintf("%d/%d", s.final(), s.read)
		return v(percent(f)+" ("+n+" records)", percent(f)+" "+n, percent(f))
	case known:
		return v(fmt.Sprintf("input %s read (%s of %s)", percent(f), fmtBytes(s.bytesRead), fmtBytes(s.bytes)),
			percent(f)+" of input read", percent(f)+" read")
	case s.countsBytes:
		return v(fmtBytes(s.bytesRead)+" of input read", fmtBytes(s.bytesRead)+" read")
	}
	return v(plural64(s.read, "record")+" read", fmt.Sprintf("%d read", s.read))
}

// eta is the time left: known only once the total is, and some record
// has settled in this run (its pace).
func (s snapshot) eta() (time.Duration, bool) {
	if !s.byRecords() || s.settled == 0 || s.elapsed <= 0 {
		return 0, false
	}
	left := s.read - s.final()
	if left <= 0 {
		return 0, false
	}
	return time.Duration(float64(s.elapsed) * float64(left) / float64(s.settled)), true
}

// countsItem says how the records went: while the total is unknown, how
// many are read and settled; then only what did not succeed (the main item
// has the rest). Verification emails are counted apart.
func (s snapshot) countsItem() (item, bool) {
	var bad []string
	if s.sent+s.verifyFailed > 0 {
		bad = append(bad, fmt.Sprintf("sent %d", s.sent))
		if s.verifyFailed > 0 {
			bad = append(bad, fmt.Sprintf("emails failed %d", s.verifyFailed))
		}
	}
	if s.failed > 0 {
		bad = append(bad, fmt.Sprintf("failed %d", s.failed))
	}
	if s.invalid > 0 {
		bad = append(bad, fmt.Sprintf("invalid %d", s.invalid))
	}
	detail := strings.Join(bad, ", ")
	if s.byRecords() || !s.countsBytes {
		if detail == "" {
			return item{}, false
		}
		return item{kind: "counts", sep: " · ", variants: []string{detail}}, true
	}
	settled := fmt.Sprintf("%d settled", s.settled)
	if detail != "" {
		settled += " (" + detail + ")"
	}
	return item{kind: "counts", sep: " · ", variants: []string{plural64(s.read, "record") + " read, " + settled, settled, fmt.Sprintf("%d settled", s.settled)}}, true
}

// waitItem says what the run waits for and how long: "waiting 12s for the
// tenant's rate limit (40s so far)"; narrow, the reason is cut short, down
// to "waiting 12s".
func (s snapshot) waitItem() item {
	head := "waiting " + fmtDur(ceilSeconds(s.waitLeft))
	full := head + " for " + s.waitWhat
	long := full // the first step drops "so far"
	if s.waited >= time.Second {
		long = full + " (" + fmtDur(s.waited) + " so far)"
	}
	return item{kind: "wait", sep: " · ", variants: []string{long, full, head}, cut: func(room int) string {
		if room >= width(head+" for ")+8 { // a few words of the reason, or none
			return truncate(full, room)
		}
		return head
	}}
}

func plural(n int, noun string) string { return plural64(int64(n), noun) }

func plural64(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
