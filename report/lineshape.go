package report

import "time"

// What each line of a report costs, and why it is there (a 1M-user import
// with 25-character emails and an absolute input path):
//
//   - the final line, ~230 bytes: the contract's fixed shape, every field
//     present even when empty, so that scripts can read any field of any
//     final line; it is what the report is for;
//   - a queued line, ~150 bytes (~210 with the contract's empty fields):
//     written before a chunk's POST, it is what tells a resume that the
//     record may be in the tenant in that chunk's job, so that it is
//     settled by reading the job and never imported twice; its email lets
//     an operator see who was in flight when a run died;
//   - a sending line (create), ~150 bytes: the same for a per-user POST;
//   - a submitted line per chunk (~100 bytes per ~1,200 records): the job
//     that chunk became.
//
// Intermediate lines leave out their empty fields and the chunk, a final
// line its chunk: nothing reads them back, and the contract fixes the
// shape of final lines only.

// stepLine is how a queued, submitted, sending or retrying line is written.
type stepLine struct {
	File   string    `json:"file,omitempty"`
	Line   int       `json:"line,omitempty"`
	Email  string    `json:"email,omitempty"`
	Status Status    `json:"status"`
	UserID string    `json:"user_id,omitempty"`
	JobID  string    `json:"job_id,omitempty"`
	Code   string    `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	Chunk  int       `json:"chunk,omitempty"`
	Record int       `json:"record,omitempty"`
	// Records: a chunk's queued line (chunkline.go).
	Records []FileRuns `json:"records,omitempty"`
}

// wireShape returns what is encoded for e.
func wireShape(e *Entry) any {
	if e.Status.IsFinal() || e.Status.IsVerification() {
		// The contract's fields, all present (Entry), without the chunk.
		line := *e
		line.Chunk = 0
		return &line
	}
	return stepLine(*e)
}
