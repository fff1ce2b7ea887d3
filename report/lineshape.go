package report

import "time"

// What each line of a report costs, and why it is there (an import with
// 25-character emails and a 17-character input path; a longer path adds
// its length to the final line):
//
//   - the final line, ~215 bytes: the contract's fixed shape, every field
//     present even when empty (~100 bytes of names and empty values), so
//     that scripts can read any field of any final line; it is what the
//     report is for;
//   - a chunk's queued line (chunkline.go), ~0.2 bytes per record: written
//     before the chunk's POST, it tells a resume which records may be in
//     the tenant in that chunk's job, so that they are settled by reading
//     the job and never imported twice;
//   - a submitted line per chunk (~100 bytes per ~1,200 records): the job
//     that chunk became;
//   - a sending line per record of a create (~150 bytes), written before
//     its POST: a resume looks such a record up before sending it again.
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
