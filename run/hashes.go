package run

// The password-hash export (--hashes): indexed before any call to the
// tenant, joined into every record as it is read (before validation, so
// that a record is checked as it will be sent), counted in the summary,
// and what it did not pair listed beside the report.
//
// Where a record's outcome is written: the report's lines keep the
// contract's shape, so none carries it. A record the join makes invalid
// (ambiguous, or a hash Auth0 cannot take) ends `invalid` with the reason
// on field password_hash; every record the join gave no hash (none,
// ambiguous) and every hash line no record took (unmatched) or that could
// not be read (unreadable) is a line of the listing (hashes.ListingPath of
// the report, mode 0600); a record of the run not in the listing was
// joined. The counts of all outcomes are in the summary.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/a0bulk/a0bulk/hashes"
	"github.com/a0bulk/a0bulk/input"
)

// HashSummary is what the join did, in a run's summary and a plan.
type HashSummary struct {
	// File is the --hashes file and By the key ("id" or "email"); empty
	// when the run had no --hashes (Withheld alone is then set).
	File string `json:"file,omitempty"`
	By   string `json:"by,omitempty"`
	hashes.Counts
	// Withheld: records of users who already exist (a sync's updates),
	// sent without the password hash they carried, since Auth0 takes a
	// hash only when it creates the user.
	Withheld int `json:"withheld,omitempty"`
	// Listing is the file that lists what the join did not pair (a run's),
	// Listed the first of those lines (a plan's, at most MaxListedProblems).
	Listing string          `json:"listing,omitempty"`
	Listed  []hashes.Listed `json:"listed,omitempty"`
	// Complete is false when the run stopped before it read every record:
	// the counts are of the records read, and no listing was written.
	Complete bool `json:"complete"`
}

// CheckHashes is checkHashes for callers that build a spec (migrate), to
// refuse before their own first call to a tenant.
func (s Spec) CheckHashes() error { return s.checkHashes() }

// checkHashes refuses --hashes where a joined hash could reach an update,
// or could not be sent at all, before anything is read.
func (s Spec) checkHashes() error {
	if s.Hashes == "" {
		if s.HashesBy != "" && s.HashesBy != string(hashes.ByID) {
			return Usagef("--hashes-by needs --hashes FILE")
		}
		return nil
	}
	if _, err := hashes.ParseBy(s.HashesBy); err != nil {
		return &UsageError{Err: err}
	}
	if s.Hashes == "-" {
		return Usagef("--hashes -: give the password-hash export as a file (stdin is the input's)")
	}
	if s.sendMode() == input.ModeCreate {
		return Usagef("--hashes: %s sends each user with POST /users, which takes no password hash (Auth0 takes hashes in bulk-import jobs only): use a0bulk import --hashes, or sync --mode import", s.what())
	}
	if s.Mode == ModeImport && s.Upsert {
		// Auth0 fails an existing user's update that carries a hash ("A
		// custom_password_hash was provided, but the user already has
		// password hash defined"; auth0-facts.md), and an upsert job
		// cannot tell which of its users exist; sent without the hash, a
		// new user would lose it for good (insert-only).
		return Usagef("--hashes cannot go with --upsert: a password hash is taken only when a user is created, and an upsert job cannot tell which users exist (Auth0 fails the update of an existing user that carries one). " +
			"Import with --hashes and without --upsert (users already there are skipped as DUPLICATED_USER), then update them with --upsert and without --hashes; or use a0bulk sync --hashes, whose state knows which users exist")
	}
	return nil
}

// what names the command for messages.
func (s Spec) what() string {
	if s.Mode == ModeSync {
		return "sync --mode " + s.SyncMode
	}
	return string(s.Mode)
}

// hashJoin is a run's or plan's --hashes: the index, and one pass of the
// join over the input.
type hashJoin struct {
	x   *hashes.Index
	sha string
	j   *hashes.Joiner
	// listing (a run's) gets every line of the listing; a plan keeps the
	// first in listed.
	listing     *hashes.Listing
	listingPath string
	listed      []hashes.Listed
	done        bool
}

// openHashes indexes spec's --hashes (nil when it has none) and records the
// file's SHA-256 in spec, for the report. A run's must be a regular file,
// read again by a resume; a plan may read a pipe. A resumed run's must be
// the very file its report recorded.
func openHashes(ctx context.Context, env *Env, spec *Spec, run bool) (*hashJoin, error) {
	if err := spec.checkHashes(); err != nil || spec.Hashes == "" {
		return nil, err
	}
	path := spec.Hashes
	st, err := os.Stat(path)
	if err != nil {
		return nil, Usagef("--hashes: %w", err)
	}
	if st.IsDir() {
		return nil, Usagef("--hashes %s is a directory", path)
	}
	if run && !st.Mode().IsRegular() {
		return nil, Usagef("--hashes %s is a pipe: a run reads its hashes again when it is resumed, so give a file (a gzipped one is read as it is)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, Usagef("--hashes: %w", err)
	}
	defer f.Close()
	by, _ := hashes.ParseBy(spec.HashesBy)
	// The whole file is read before the first record: say so, since a
	// large one takes a while.
	env.Log.Info("indexing the password-hash export", "file", path, "bytes", st.Size())
	began := env.Clock.Now()
	sum := sha256.New()
	tee := io.TeeReader(ctxReader{ctx: ctx, r: f}, sum)
	x, err := hashes.Build(ctx, tee, path, hashes.Options{By: by})
	if err == nil {
		// What the decompressor left unread still counts in the file's
		// fingerprint.
		if _, err = io.Copy(io.Discard, tee); err != nil {
			x.Close()
			err = fmt.Errorf("--hashes %s: %w", path, err)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UsageError{Err: err}
	}
	h := &hashJoin{x: x, sha: hex.EncodeToString(sum.Sum(nil))}
	if spec.Resume != "" && spec.HashesSHA256 != "" && spec.HashesSHA256 != h.sha {
		x.Close()
		return nil, Usagef("%s %s: the --hashes file %s changed since the run (sha256 was %s, now %s): join the same hashes, or start a new run", spec.resumeFlag(), spec.Resume, path, short(spec.HashesSHA256), short(h.sha))
	}
	spec.HashesSHA256 = h.sha
	env.Log.Info("password-hash export indexed", "file", path, "hash_lines", x.Lines(), "unreadable", x.Unreadable(),
		"took", env.Clock.Now().Sub(began).Round(time.Millisecond).String())
	return h, nil
}

// close frees the index (nil-safe).
func (h *hashJoin) close() {
	if h == nil {
		return
	}
	if h.listing != nil {
		h.listing.Discard()
	}
	h.x.Close()
}

// pass starts a pass over the input; a run's listing goes to path ("": a
// plan's, kept in memory).
func (h *hashJoin) pass(path string) error {
	h.j, h.done, h.listed, h.listingPath = hashes.NewJoiner(h.x), false, nil, path
	if path == "" {
		return nil
	}
	l, err := hashes.CreateListing(path)
	if err != nil {
		return err
	}
	h.listing = l
	return nil
}

// join joins rec (see hashes.Joiner.Join) and lists it when it got no hash.
func (h *hashJoin) join(rec *input.Record) error {
	res, err := h.j.Join(rec)
	if err != nil {
		return err
	}
	if l, ok := hashes.OfRecord(*rec, res, h.x.Name()); ok {
		return h.keep(l)
	}
	return nil
}

// finish ends the pass once every record is read: it lists the hash lines
// no record took and puts the listing in place.
func (h *hashJoin) finish() error {
	err := h.j.Unjoined(func(u hashes.Unjoined) error { return h.keep(hashes.OfLine(u, h.x.Name())) })
	if h.listing != nil {
		if err != nil {
			h.listing.Discard()
		} else {
			err = h.listing.Commit()
		}
	}
	h.done = err == nil
	return err
}

func (h *hashJoin) keep(l hashes.Listed) error {
	if h.listing != nil {
		return h.listing.Add(l)
	}
	if len(h.listed) < MaxListedProblems {
		h.listed = append(h.listed, l)
	}
	return nil
}

// summary is what the pass did, with the hashes a sync withheld from its
// updates (nil: no --hashes and nothing withheld).
func (h *hashJoin) summary(withheld int) *HashSummary {
	if h == nil || h.j == nil {
		if withheld == 0 {
			return nil
		}
		return &HashSummary{Withheld: withheld, Complete: true}
	}
	s := &HashSummary{File: h.x.Name(), By: string(h.x.By()), Counts: h.j.Counts(), Withheld: withheld,
		Listed: h.listed, Complete: h.done}
	if h.listing != nil && h.done {
		s.Listing = h.listingPath
	}
	return s
}

// stateUser is the user as a sync compares it with its state: a hash
// joined from --hashes is not part of it, so that a sync with and a sync
// without --hashes find the same users unchanged.
func stateUser(rec input.Record) input.User {
	u := rec.User
	if rec.HashLine != 0 {
		u.PasswordHash, u.CustomPasswordHash = "", nil
	}
	return u
}

// withholdHash takes the insert-only password hash out of the record of a
// user who exists: Auth0 fails an update that carries one. It reports
// whether there was one.
func withholdHash(rec *input.Record) bool {
	u := &rec.User
	if u.PasswordHash == "" && u.CustomPasswordHash == nil {
		return false
	}
	u.PasswordHash, u.CustomPasswordHash, rec.HashLine = "", nil, 0
	return true
}
