package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/keyset"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

// The proof counts both sides after the import and explains the
// difference. The target is counted with one more export job, of its
// connection, with only user_id and email: exact (Auth0's user search is
// an index that lags writes and pages no further than 1,000 users; an
// export job reads the connection itself), one job whatever the number of
// users, and the ids it lists let every source user be looked up by the
// user_id the import kept. The ids and emails go into an exact set on disk
// (input/keyset), so the proof runs in bounded memory at any size.

// Count is one side of the proof.
type Count struct {
	Domain     string `json:"domain"`
	Connection string `json:"connection"`
	Users      int    `json:"users"`
	JobID      string `json:"job_id"`
}

// Proof is what the migrate proves. Every source user is counted in
// exactly one of Moved, AlreadyThere, OtherID, Unlisted, Invalid, Failed,
// Missing and Unsettled, by its final line in the report and by what the
// target lists.
type Proof struct {
	Source Count `json:"source"`
	// Target is the target connection counted afterwards.
	Target Count `json:"target"`
	// Moved: created or imported by the migrate, and in the target under
	// the source's user_id.
	Moved int `json:"moved"`
	// AlreadyThere: skipped as already present, under the same user_id
	// (an earlier migrate, say).
	AlreadyThere int `json:"already_there"`
	// OtherID: already present under another user_id (the same email):
	// skipped, or with --upsert updated in place, keeping the target's id.
	OtherID int `json:"other_id"`
	// Unlisted: skipped as already present (DUPLICATED_USER), yet the
	// target lists no user with that id or email: Auth0's store still
	// holds the email (after a lazy migration, for one).
	Unlisted int `json:"unlisted"`
	// Invalid (never sent) and Failed (refused by the target).
	Invalid int `json:"invalid"`
	Failed  int `json:"failed"`
	// Missing: reported created or imported, yet not in the target. A
	// proof with any fails.
	Missing int `json:"missing"`
	// Unsettled: no final line in the report (the run did not end).
	Unsettled int `json:"unsettled"`
	// InTarget is the source users whose user_id the target has, whatever
	// their line says; NotFromSource the target's other users.
	InTarget      int `json:"in_target"`
	NotFromSource int `json:"not_from_source"`
	// Duplicates are records with two final lines (never: the report's
	// invariant).
	Duplicates int `json:"duplicates"`
	// Reasons are the most frequent reasons records are invalid or failed.
	Reasons []report.Reason `json:"reasons,omitempty"`
	// Examples name a few of the Missing and Unsettled ones (file:line
	// user_id).
	Examples []string `json:"examples,omitempty"`
}

// Difference is the number of source users the migrate did not bring to
// the target under their own user_id.
func (p *Proof) Difference() int { return p.Source.Users - p.Moved - p.AlreadyThere }

// ProofError: the counts do not add up: a user reported imported is not
// in the target, a record was never settled, or one was settled twice.
type ProofError struct {
	Proof  *Proof
	Report string
}

func (e *ProofError) Error() string {
	var parts []string
	if n := e.Proof.Missing; n > 0 {
		parts = append(parts, fmt.Sprintf("%s the report says were imported %s not in the target", words.Count(n, "user"), words.Agree(n, "is", "are")))
	}
	if n := e.Proof.Unsettled; n > 0 {
		parts = append(parts, fmt.Sprintf("%s %s no final line in %s", words.Count(n, "record"), words.Agree(n, "has", "have"), e.Report))
	}
	if n := e.Proof.Duplicates; n > 0 {
		parts = append(parts, fmt.Sprintf("%s %s two final lines", words.Count(n, "record"), words.Agree(n, "has", "have")))
	}
	return "the proof does not hold: " + strings.Join(parts, "; ") + " (a0bulk migrate --resume " + e.Report + " counts again)"
}

// check is the proof's verdict.
func (p *Proof) check(reportPath string) error {
	if p.Missing == 0 && p.Unsettled == 0 && p.Duplicates == 0 {
		return nil
	}
	return &ProofError{Proof: p, Report: reportPath}
}

// maxExamples bounds Proof.Examples.
const maxExamples = 5

// Key kinds in the target's set.
const (
	kindID    uint8 = 1
	kindEmail uint8 = 2
)

// prove counts the target and joins every source record with its final
// line and the target's lists; the proof is journalled.
func (m *migration) prove(ctx context.Context) (*Proof, error) {
	p := &Proof{
		Source: Count{Domain: m.hdr.Source.Domain, Connection: m.hdr.Source.Connection, JobID: m.j.state.JobID},
		Target: Count{Domain: m.hdr.Target.Domain, Connection: m.hdr.Target.Connection},
	}
	dir := filepath.Dir(m.p.report)
	set := keyset.New(keyset.Options{Dir: dir})
	defer set.Close()
	m.notef("counting the target connection %s with an export job (user_id and email only)", m.hdr.Target.Connection)
	sink := &targetSink{set: set}
	show, stop := m.watchJob()
	res, err := export.Run(ctx, export.Options{
		Connection: m.hdr.Target.Connection, Format: management.ExportJSON,
		Fields: []management.ExportField{{Name: "user_id"}, {Name: "email"}},
		API:    m.env.Target, Stdout: sink, TempDir: dir, HTTP: m.env.HTTP, Clock: m.env.Import.Clock,
		PollMin: m.env.PollMin, PollMax: m.env.PollMax, OnJob: show, Logf: m.env.Logf,
	})
	stop()
	if err == nil {
		err = sink.close()
	}
	if err != nil {
		return nil, fmt.Errorf("counting the target: %w", err)
	}
	p.Target.Users, p.Target.JobID = res.Users, res.JobID
	if err := m.joinSource(p, set); err != nil {
		return nil, err
	}
	p.NotFromSource = p.Target.Users - p.InTarget
	if err := m.j.append(line{Event: eventProved, Proof: p}); err != nil {
		return nil, err
	}
	return p, nil
}

// joinSource reads the export file as the import read it, and counts each
// record by its final line in the report and by what the target lists.
func (m *migration) joinSource(p *Proof, set *keyset.Set) error {
	sum, err := report.Summarize(m.p.report)
	if err != nil {
		return err
	}
	p.Reasons, p.Duplicates = sum.Reasons, len(sum.Duplicates)
	st, err := report.Load(m.p.report)
	if err != nil {
		return err
	}
	f, err := os.Open(m.p.export)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := input.NewReader(f, m.p.export, input.FormatNDJSON, input.Options{Mode: input.ModeImport})
	if err != nil {
		return err
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s again: %w", m.p.export, err)
		}
		p.Source.Users++
		// The import numbers a file's records from 1, every record
		// counted (run/inputs.go): the report keys them so.
		rec.Ordinal = p.Source.Users
		id := rec.User.UserID
		if id != "" && !strings.HasPrefix(id, "auth0|") {
			id = "auth0|" + id // the prefix the import's NDJSON reading stripped, which Auth0 adds back
		}
		byID, err := has(set, kindID, id)
		if err != nil {
			return err
		}
		byEmail, err := has(set, kindEmail, strings.ToLower(rec.User.Email))
		if err != nil {
			return err
		}
		if byID {
			p.InTarget++
		}
		key := report.Key{File: rec.File, Line: rec.Line, Record: rec.Ordinal}
		final, ok := st.FinalOf(key)
		switch {
		case !ok:
			p.Unsettled++
			p.example(key, id, "no final line")
		case final.Status == report.Invalid:
			p.Invalid++
		case final.Status == report.Failed:
			p.Failed++
		case final.Status == report.Skipped && byID:
			p.AlreadyThere++
		case final.Status == report.Skipped && byEmail:
			p.OtherID++
		case final.Status == report.Skipped:
			p.Unlisted++
		case byID:
			p.Moved++
		case final.Status == report.Imported && byEmail:
			p.OtherID++ // an upsert matches by email and keeps the target's id
		default:
			p.Missing++
			p.example(key, id, string(final.Status)+" but not in the target")
		}
	}
	if n := m.j.state.File; n != nil && n.Users != p.Source.Users {
		return fmt.Errorf("%s holds %s, the export counted %d", m.p.export, words.Count(p.Source.Users, "record"), n.Users)
	}
	return nil
}

func (p *Proof) example(k report.Key, id, what string) {
	if len(p.Examples) < maxExamples {
		p.Examples = append(p.Examples, fmt.Sprintf("%s %s: %s", k, id, what))
	}
}

// has looks key (of kind) up in set; "" is never there.
func has(set *keyset.Set, kind uint8, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	_, ok, err := set.Lookup(set.Probe(kind, key))
	return ok, err
}

// targetSink takes the target's count export (NDJSON of user_id and
// email) line by line into the set.
type targetSink struct {
	set  *keyset.Set
	tail []byte
	n    int
}

func (s *targetSink) Write(b []byte) (int, error) {
	data := append(s.tail, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := s.add(data[:i]); err != nil {
			return 0, err
		}
		data = data[i+1:]
	}
	s.tail = append(s.tail[:0], data...)
	return len(b), nil
}

// close takes a last line without its newline.
func (s *targetSink) close() error {
	if len(bytes.TrimSpace(s.tail)) == 0 {
		return nil
	}
	return s.add(s.tail)
}

func (s *targetSink) add(line []byte) error {
	s.n++
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	var u struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	}
	if err := json.Unmarshal(line, &u); err != nil {
		return fmt.Errorf("line %d of the target's export: %w", s.n, err)
	}
	for _, k := range []struct {
		kind uint8
		key  string
	}{{kindID, u.UserID}, {kindEmail, strings.ToLower(u.Email)}} {
		if k.key == "" {
			continue
		}
		p := s.set.Probe(k.kind, k.key)
		if _, ok, err := s.set.Lookup(p); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.set.Add(p, 0); err != nil {
			return err
		}
	}
	return nil
}
