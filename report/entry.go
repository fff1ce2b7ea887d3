// Package report is a run's write-ahead journal: an NDJSON file (mode 0600)
// in which every input record ends with exactly one final line. It is the only
// source of a run's counts, summary, progress and exit code, and what --resume
// reads back. It works offline and never imports the Management API client.
package report

import (
	"fmt"
	"time"
)

// Status is the status field of a report line.
type Status string

// Final statuses: each input record ends with exactly one of these.
const (
	Created  Status = "created"
	Updated  Status = "updated"
	Imported Status = "imported"
	Skipped  Status = "skipped"
	Invalid  Status = "invalid"
	Failed   Status = "failed"
)

// Intermediate statuses, written before a request so that a crash leaves a
// trace of what may have reached the tenant.
const (
	// Queued: the record is in import chunk Chunk, about to be submitted.
	Queued Status = "queued"
	// Submitted: chunk Chunk became import job JobID (a chunk-level line:
	// no file or line).
	Submitted Status = "submitted"
	// Sending: a per-user create or update is about to be sent.
	Sending Status = "sending"
	// Retrying: a retry (--retry-failed) is about to send again a record
	// whose final line is failed. It supersedes that line: the record has
	// no final line until the retry writes its new one, and is in flight
	// meanwhile (a resume sends it again, looking it up first: its earlier
	// attempt may have created it).
	Retrying Status = "retrying"
)

// Verification-email statuses: lines of their own, beside a record's final line.
const (
	VerificationSent   Status = "verification_sent"
	VerificationFailed Status = "verification_failed"
	// VerificationSending is written before the request: a run that dies
	// before the answer leaves it, and the next run does not email twice.
	VerificationSending Status = "verification_sending"
	// VerificationSkipped: no email was asked for, because the user's email
	// is already verified (code CodeEmailVerified); a later verify skips it.
	VerificationSkipped Status = "verification_skipped"
)

// CodeEmailVerified is the code of a verification_skipped line.
const CodeEmailVerified = "EMAIL_VERIFIED"

// IsVerification reports whether s is a verification line's status.
func (s Status) IsVerification() bool {
	switch s {
	case VerificationSent, VerificationFailed, VerificationSending, VerificationSkipped:
		return true
	}
	return false
}

// FinalStatuses lists the final statuses in the order summaries print them.
var FinalStatuses = []Status{Created, Updated, Imported, Skipped, Invalid, Failed}

// IsFinal reports whether s ends a record's story.
func (s Status) IsFinal() bool {
	switch s {
	case Created, Updated, Imported, Skipped, Invalid, Failed:
		return true
	}
	return false
}

// Succeeded reports whether s counts as success for the exit code.
func (s Status) Succeeded() bool {
	switch s {
	case Created, Updated, Imported, Skipped:
		return true
	}
	return false
}

// Entry is one line of the report. All fields but Chunk are the contract's and
// always present, as in its example line;
// Chunk ties queued records to their import chunk. Passwords, hashes, tokens
// and secrets have no field here, by construction.
type Entry struct {
	File   string    `json:"file"`
	Line   int       `json:"line"`
	Email  string    `json:"email"`
	Status Status    `json:"status"`
	UserID string    `json:"user_id"`
	JobID  string    `json:"job_id"`
	Code   string    `json:"code"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Chunk  int       `json:"chunk,omitempty"`
	// Record is the record's ordinal in File (from 1): what tells apart
	// records that share a line. Absent from chunk lines, and from reports
	// written before it was recorded (RunHeader.Keys).
	Record int `json:"record,omitempty"`
	// Records are the records of a chunk's queued line (QueuedChunk),
	// which has no file, line or record of its own.
	Records []FileRuns `json:"records,omitempty"`
}

// Key identifies an input record across runs of the same input: its file
// and ordinal in it. Line is there for messages (and the only identity a
// report written before ordinals has: its records have Record 0).
type Key struct {
	File   string
	Line   int
	Record int
}

// Key returns the record key of a record-level entry.
func (e *Entry) Key() Key { return Key{File: e.File, Line: e.Line, Record: e.Record} }

// At returns an entry for the record k, with its file, line and ordinal.
func At(k Key) Entry { return Entry{File: k.File, Line: k.Line, Record: k.Record} }

// String names the record for people: file:line, and its ordinal when
// several records may share the line.
func (k Key) String() string {
	if k.Record > 0 {
		return fmt.Sprintf("%s:%d (record %d)", k.File, k.Line, k.Record)
	}
	return fmt.Sprintf("%s:%d", k.File, k.Line)
}
