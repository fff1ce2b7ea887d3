package run

import (
	"fmt"
	"strings"
	"sync"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/syncstate"
)

// passwordHashDefined is in the message of Auth0's per-user error for a
// password hash sent to a user who has one (support article "Auth0 Bulk
// User Import Without Password Hashes": "A custom_password_hash was
// provided, but the user already has password hash defined").
const passwordHashDefined = "already has password hash defined"

// CodeUnchanged is the report code of a record skipped because the state
// holds the same hash: the tenant already has the user in this form.
const CodeUnchanged = "UNCHANGED"

// syncVerdict is what the state says about a record.
type syncVerdict int

const (
	syncNew       syncVerdict = iota // no entry: create or import it
	syncChanged                      // an entry with another hash: upsert it
	syncUnchanged                    // the same hash: skip it, no request
)

// stateReader is the part of the state a plan needs (nil-safe through
// judge: a dry run with no state file yet has none).
type stateReader interface {
	Get(email string) (syncstate.Entry, bool, error)
}

// judge compares a valid record with the state. The hash covers the mapped
// user only: a create-mode plaintext password is never hashed, so neither it
// nor a fast hash of it ever reaches the state file.
func judge(st stateReader, rec input.Record, full bool) (syncVerdict, syncstate.Hash, syncstate.Entry, error) {
	hash := syncstate.RecordHash(stateUser(rec))
	if st == nil || rec.User.Email == "" {
		// No key to remember the user by: it is always sent.
		return syncNew, hash, syncstate.Entry{}, nil
	}
	prev, found, err := st.Get(rec.User.Email)
	if err != nil {
		return 0, syncstate.Hash{}, syncstate.Entry{}, err
	}
	switch {
	case !found:
		return syncNew, hash, prev, nil
	case prev.Hash == hash && !hash.IsZero() && !full:
		return syncUnchanged, hash, prev, nil
	}
	return syncChanged, hash, prev, nil
}

// pendingSync is a record on its way to the tenant: what to remember once
// the tenant confirms it.
type pendingSync struct {
	email  string
	hash   syncstate.Hash
	userID string // from the state, kept when the outcome names none
}

// syncTracker writes the state from the journal: it observes every entry,
// and when a record it sent ends created, updated or imported it puts the
// hash computed when the record was read. Nothing else writes the state, so
// the state never claims what the tenant did not confirm. It holds only the
// records in flight (a create pool, or the import chunks not yet settled).
type syncTracker struct {
	store *syncstate.Store

	mu       sync.Mutex
	inflight map[report.Key]pendingSync
	err      error // the first failed Put
}

func newSyncTracker(store *syncstate.Store) *syncTracker {
	return &syncTracker{store: store, inflight: map[report.Key]pendingSync{}}
}

// track remembers rec's hash until its final line. Call it before the record
// can reach the tenant. A record without email cannot be keyed and is not
// remembered (it is sent on every sync).
func (t *syncTracker) track(rec input.Record, hash syncstate.Hash, prev syncstate.Entry) {
	if rec.User.Email == "" {
		return
	}
	t.mu.Lock()
	t.inflight[keyOf(rec)] = pendingSync{email: rec.User.Email, hash: hash, userID: prev.UserID}
	t.mu.Unlock()
}

// observe is the journal observer. It may be called from several goroutines.
func (t *syncTracker) observe(e report.Entry) {
	if !e.Status.IsFinal() {
		return
	}
	k := e.Key()
	t.mu.Lock()
	p, ok := t.inflight[k]
	if ok {
		delete(t.inflight, k)
	}
	t.mu.Unlock()
	if !ok {
		return // not ours to remember (unchanged, invalid before sending)
	}
	switch e.Status {
	case report.Created, report.Updated, report.Imported:
	case report.Failed:
		if !strings.Contains(e.Reason, passwordHashDefined) {
			return
		}
		// Auth0 refused the hash of a user the state did not know: the
		// user exists, with a password. Remembered with no hash, it is a
		// changed user to the next sync, sent without its hash, instead of
		// failing the same way every night.
		p.hash = syncstate.Hash{}
	default:
		// Failed, or skipped (a duplicate the upsert should have updated):
		// not confirmed in this form, so the next sync sends it again.
		return
	}
	id := e.UserID
	if id == "" {
		// An import job names no user ids; keep what an earlier create
		// sync learned.
		id = p.userID
	}
	if err := t.store.Put(p.email, syncstate.Entry{Hash: p.hash, UserID: id}); err != nil {
		t.mu.Lock()
		if t.err == nil {
			t.err = fmt.Errorf("updating the sync state: %w", err)
		}
		t.mu.Unlock()
	}
}

// Err returns the first state write that failed. The users concerned are
// sent again by the next sync, which is safe, but the run says so (exit 1).
func (t *syncTracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// inFlight is the number of records tracked and not yet settled.
func (t *syncTracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inflight)
}
