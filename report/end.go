package report

import (
	"fmt"

	"github.com/a0bulk/a0bulk/words"
)

// statusEnd is the end-of-run line: written once by every run (or resume)
// that ends, however it ends. A report whose last run has none was killed,
// or is still being written.
const statusEnd Status = "end"

// Outcomes of End.
const (
	EndComplete = "complete" // the run did all it could: read its input to the end and settled what it sent
	EndStopped  = "stopped"  // a signal stopped it; resumable
	EndFailed   = "failed"   // it could not go on (tenant unreachable, refused credentials…); resumable
)

// End says how a run ended, so that a report read later (report summary,
// a resume) never takes an interrupted run for a finished one.
type End struct {
	Outcome string `json:"outcome"`
	// RecordsRead counts the input records this run (or resume) read; a
	// resume reads the input from its start, so with InputRead it is the
	// number of records in the input.
	RecordsRead int `json:"records_read"`
	// InputRead: the run read its whole input.
	InputRead bool `json:"input_read"`
	// Final and InFlight are the report's counts when it ended.
	Final    int `json:"final"`
	InFlight int `json:"in_flight"`
}

// RunState is what a report says of its run as a whole.
type RunState string

const (
	// StateComplete: every input record has its final line, and nothing
	// is left to find out.
	StateComplete RunState = "complete"
	// StateIncomplete: records were not read or not settled (a stop, a
	// failure, a kill); the run can be resumed.
	StateIncomplete RunState = "incomplete"
	// StateNeedsVerify: every record is final, but verification emails
	// were requested whose outcome the report does not hold.
	StateNeedsVerify RunState = "needs_verify"
)

// Progress is a report's state with the counts behind it: "N of M records
// final", where M is known once a run has read its whole input.
type Progress struct {
	State RunState `json:"state"`
	// Final is the number of records with a final line.
	Final int `json:"final"`
	// Records is the number of input records, when a run read the whole
	// input (0 when unknown: Read is then a lower bound).
	Records int `json:"records,omitempty"`
	// Read is how many records the last run read (0 without an end line).
	Read     int `json:"read"`
	InFlight int `json:"in_flight"`
	// VerificationPending counts verification emails requested whose
	// outcome is not in the report.
	VerificationPending int `json:"verification_pending,omitempty"`
	// Ended: the last run wrote its end-of-run line (false: it was killed,
	// or is still running).
	Ended   bool   `json:"ended"`
	Outcome string `json:"outcome,omitempty"`
}

// Judge returns the state of a report whose last run ended with end (nil:
// no end-of-run line), holding final records with a final line, inFlight
// records sent without one, and pending verification emails of unknown
// outcome.
func Judge(end *End, final, inFlight, pending int) Progress {
	p := Progress{State: StateIncomplete, Final: final, InFlight: inFlight, VerificationPending: pending}
	if end == nil {
		return p
	}
	p.Ended, p.Outcome, p.Read = true, end.Outcome, end.RecordsRead
	if end.InputRead {
		p.Records = end.RecordsRead
	}
	if end.Outcome != EndComplete || !end.InputRead || inFlight > 0 || final < end.RecordsRead {
		return p
	}
	p.State = StateComplete
	if pending > 0 {
		p.State = StateNeedsVerify
	}
	return p
}

// JudgeRun is Judge for a report of mode with counts t. A verify report's
// records are its emails: they are settled when no outcome is pending.
func JudgeRun(mode string, end *End, t Tally, inFlight int) Progress {
	final := t.Records
	if mode == "verify" && end != nil {
		final = max(final, end.RecordsRead)
	}
	return Judge(end, final, inFlight, t.VerificationPending)
}

// String is the state for people: "complete: 12 of 12 records final".
func (p Progress) String() string {
	var s string
	switch {
	case p.Records > 0 || p.State == StateComplete:
		s = fmt.Sprintf("%s: %d of %s final", p.State, p.Final, words.Count(p.Records, "record"))
	case !p.Ended:
		s = fmt.Sprintf("%s: %s final; the run did not end (killed, or still running), so the input's size is unknown", p.State, words.Count(p.Final, "record"))
	default:
		s = fmt.Sprintf("%s: %s final; %d read before the run %s, the input not to its end", p.State, words.Count(p.Final, "record"), p.Read, p.Outcome)
	}
	if p.InFlight > 0 {
		s += fmt.Sprintf(", %d sent and not settled", p.InFlight)
	}
	if p.VerificationPending > 0 {
		s += ", " + words.Count(p.VerificationPending, "verification email") + " of unknown outcome"
	}
	return s
}
