package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Input identifies one input file by content, so that a resume can refuse an
// input that changed since the report was started (its lines would no longer
// be the records the report talks about).
type Input struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// RunHeader is what a run means; it is the report's first line.
type RunHeader struct {
	Version    string            `json:"version"`
	Mode       string            `json:"mode"`
	Connection string            `json:"connection"`
	Upsert     bool              `json:"upsert"`
	ExternalID string            `json:"external_id"`
	Inputs     []Input           `json:"inputs"`
	StartedAt  time.Time         `json:"started_at"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// HashInput returns the size and SHA-256 of the file at path, reading it as a
// stream so that inputs of any size cost constant memory. Stdin ("-") cannot
// be hashed without consuming it; callers decide what a stdin run records.
func HashInput(path string) (Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, fmt.Errorf("hash input: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Input{}, fmt.Errorf("hash input %s: %w", path, err)
	}
	return Input{Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// MismatchError says why a report cannot be resumed by the run being
// started: the report describes a different run.
type MismatchError struct {
	Field  string // e.g. "connection", "inputs[0].sha256"
	Report string // the value in the report
	Now    string // the value of the run being started
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("report is for a different run: %s was %q, now %q", e.Field, e.Report, e.Now)
}

// Check returns a *MismatchError when now is not the run h describes, so that
// --resume never continues a report with another connection, mode or input.
// Version, StartedAt and Extra may differ (a resume may use a newer binary).
func (h RunHeader) Check(now RunHeader) error {
	mismatch := func(field, a, b string) error {
		if a == b {
			return nil
		}
		return &MismatchError{Field: field, Report: a, Now: b}
	}
	checks := []struct{ field, a, b string }{
		{"mode", h.Mode, now.Mode},
		{"connection", h.Connection, now.Connection},
		{"upsert", strconv.FormatBool(h.Upsert), strconv.FormatBool(now.Upsert)},
		{"external_id", h.ExternalID, now.ExternalID},
		{"inputs", strconv.Itoa(len(h.Inputs)), strconv.Itoa(len(now.Inputs))},
	}
	for _, c := range checks {
		if err := mismatch(c.field, c.a, c.b); err != nil {
			return err
		}
	}
	for i := range h.Inputs {
		a, b := h.Inputs[i], now.Inputs[i]
		p := fmt.Sprintf("inputs[%d].", i)
		for _, c := range []struct{ field, a, b string }{
			{p + "path", a.Path, b.Path},
			{p + "size", strconv.FormatInt(a.Size, 10), strconv.FormatInt(b.Size, 10)},
			{p + "sha256", a.SHA256, b.SHA256},
		} {
			if err := mismatch(c.field, c.a, c.b); err != nil {
				return err
			}
		}
	}
	return nil
}
