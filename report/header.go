package report

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/words"
)

// Input identifies one input file by content, so that a resume can refuse an
// input that changed since the report was started (its lines would no longer
// be the records the report talks about).
type Input struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// From names the pipe (stdin, a FIFO, <(cmd)) Path is a copy of, for
	// people: the run and its resume read the copy.
	From string `json:"from,omitempty"`
}

// RunHeader is what a run means; it is the report's first line.
type RunHeader struct {
	Version    string    `json:"version"`
	Mode       string    `json:"mode"`
	Connection string    `json:"connection"`
	Upsert     bool      `json:"upsert"`
	ExternalID string    `json:"external_id"`
	Inputs     []Input   `json:"inputs"`
	StartedAt  time.Time `json:"started_at"`
	// Keys says how the report's lines name their record: KeysByRecord (file
	// and ordinal) since ordinals were recorded; empty in older reports,
	// whose records are named by file and line alone.
	Keys string `json:"keys,omitempty"`
	// Settings say how the run reads its input and paces its requests; a
	// resume restores them.
	Settings Settings `json:"extra,omitzero"`
	// Tenant is the tenant the run wrote to: the report is bound to it.
	// Zero in a report written before it was recorded.
	Tenant Tenant `json:"tenant,omitzero"`
}

// Tenant names the tenant a report's run wrote to, so that a resume, verify
// or report failures can refuse to carry the run on in another one (users
// split over two tenants). A field is empty when it was not known: a
// token that names no client, a run that looked no connection up.
type Tenant struct {
	// Domain is the configured domain, as run.TenantOf writes it (lower
	// case, no scheme, no trailing slash).
	Domain   string `json:"domain,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// ConnectionID is the id of the header's connection (by name) as the
	// tenant answered: a connection deleted and made again under the same
	// name is another connection.
	ConnectionID string `json:"connection_id,omitempty"`
}

// Settings are the rest of a run's spec, recorded so that a resume reads
// the input the same way (the same file:line must be the same record) and
// sends at the same size and pace. The JSON keys are those of the first
// report format (an "extra" object of flag names and string values), kept
// so that a report started by an earlier version can still be resumed. The
// numbers are always written: an absent one means a report from before it
// was recorded (ReadHeaderOver), never a zero.
type Settings struct {
	// How the input is read: a resume must read it the same way.
	Format    string `json:"format,omitempty"`
	Map       string `json:"map,omitempty"`
	MapSHA256 string `json:"map_sha256,omitempty"`
	// Delimiter is the CSV delimiter --delimiter forced ("" : detected
	// from each file's header, which the same bytes always repeat).
	Delimiter string `json:"delimiter,omitempty"`

	// Import jobs.
	ChunkBytes          int      `json:"chunk-bytes,string"`
	MaxJobs             int      `json:"max-jobs,string"`
	SlotWait            Duration `json:"slot-wait"`
	SendCompletionEmail bool     `json:"send-completion-email,omitempty,string"`

	// Per-user creates.
	Concurrency    int    `json:"concurrency,string"`
	RandomPassword bool   `json:"random-password,omitempty,string"`
	VerifyEmail    bool   `json:"verify-email,omitempty,string"`
	CustomDomain   string `json:"custom-domain,omitempty"`
	AppClientID    string `json:"app-client-id,omitempty"`

	// Pacing (every mode). MaxRetries bounds a request's retries after 5xx
	// answers (before max-wait was recorded it bounded 429s and connection
	// failures too); MaxWait is how long continuous refusal (429s,
	// connection failures) is waited out, 0 meaning not at all. A report
	// from before max-wait gets the default (ReadHeaderOver).
	Rate       float64  `json:"rate,string"`
	MaxRetries int      `json:"max-retries,string"`
	MaxWait    Duration `json:"max-wait"`

	// Sync: how new and changed users are sent, and the state file.
	SyncMode string `json:"sync_mode,omitempty"`
	State    string `json:"state,omitempty"`

	// The password-hash export joined into the records (--hashes,
	// --hashes-by) and its content: a resume joins the same hashes the
	// same way.
	Hashes       string `json:"hashes,omitempty"`
	HashesSHA256 string `json:"hashes_sha256,omitempty"`
	HashesBy     string `json:"hashes-by,omitempty"`
}

// KeysByRecord is RunHeader.Keys of reports whose record lines carry the
// record's ordinal.
const KeysByRecord = "record"

// KeyedByLine reports whether the report predates ordinals: its records are
// named by file and line, and a resume must name them so too.
func (h RunHeader) KeyedByLine() bool { return h.Keys != KeysByRecord }

// Duration is a time.Duration written as Go writes it ("30m0s").
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
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
	// Input is the changed input's place among the inputs, from 1, and
	// Path its path in the report; 0 when the mismatch is not an input's.
	Input int
	Path  string
}

// Error says what differs in words, and which input: an operator reading
// `inputs[0].size was "45665"` must work out that the file changed.
func (e *MismatchError) Error() string {
	const prefix = "report is for a different run: "
	input := fmt.Sprintf("input %d (%s)", e.Input, e.Path)
	switch {
	case strings.HasSuffix(e.Field, ".path"):
		return fmt.Sprintf("%sinput %d was %s, now %s", prefix, e.Input, e.Report, e.Now)
	case strings.HasSuffix(e.Field, ".size"):
		return fmt.Sprintf("%s changed since the run read it: %s then, %s now", input, sizeWords(e.Report), sizeWords(e.Now))
	case strings.HasSuffix(e.Field, ".sha256"):
		return fmt.Sprintf("%s changed since the run read it: same size, other content", input)
	}
	switch e.Field {
	case "mode":
		return fmt.Sprintf("%sit is of %s run, not %s run", prefix, words.A(e.Report), words.A(e.Now))
	case "connection":
		return fmt.Sprintf("%sits connection is %q, not %q", prefix, e.Report, e.Now)
	case "upsert":
		if e.Report == "true" {
			return prefix + "it was run with --upsert, this run without"
		}
		return prefix + "it was run without --upsert, this run with it"
	case "external_id":
		return fmt.Sprintf("%sits --external-id is %q, not %q", prefix, e.Report, e.Now)
	case "inputs":
		n, _ := strconv.Atoi(e.Report)
		return fmt.Sprintf("%sit read %s, this run %s", prefix, words.Count(n, "input"), e.Now)
	}
	return fmt.Sprintf("%s%s was %q, now %q", prefix, e.Field, e.Report, e.Now)
}

// sizeWords is a size for people: "45,665 bytes".
func sizeWords(n string) string {
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return n + " bytes"
	}
	s := strconv.FormatInt(v, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return words.Plural(int(v), s+" byte")
}

// Check returns a *MismatchError when now is not the run h describes, so that
// --resume never continues a report with another connection, mode or input.
// Version, StartedAt and Settings may differ (a resume may use a newer
// binary; how the input is read is compared by the caller), and so may the
// Tenant: what is known of it depends on the credentials and on the tenant's
// answers, and run.checkTenant compares it.
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
			if c.a != c.b {
				return &MismatchError{Field: c.field, Report: c.a, Now: c.b, Input: i + 1, Path: a.Path}
			}
		}
	}
	return nil
}

// ReadHeader reads only a report's first line: what the run means, without
// loading its records (a resume reads the header before any flag is taken).
func ReadHeader(path string) (RunHeader, error) { return ReadHeaderOver(path, Settings{}) }

// ReadHeaderOver is ReadHeader with the settings decoded over base: one the
// report does not record (it predates it) keeps base's value, which should
// be what that version used, its default.
func ReadHeaderOver(path string, base Settings) (RunHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return RunHeader{}, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	line, err := readLine(bufio.NewReaderSize(f, 64<<10), nil)
	if len(line) == 0 {
		if err == nil || err == io.EOF {
			return RunHeader{}, fmt.Errorf("report %s has no header line", path)
		}
		return RunHeader{}, fmt.Errorf("read report %s: %w", path, err)
	}
	wl := wireLine{Run: &RunHeader{Settings: base}}
	if jerr := json.Unmarshal(line, &wl); jerr != nil || wl.Status != statusRun || wl.Run == nil {
		return RunHeader{}, fmt.Errorf("report %s line 1: not a run header", path)
	}
	return *wl.Run, nil
}
