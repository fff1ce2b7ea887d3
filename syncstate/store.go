// Package syncstate remembers, between nightly `a0bulk sync` runs, which
// users the tenant already holds in their current form, so that unchanged
// records are skipped. It is a bbolt file (crash-safe, updated in place)
// guarded by a lock so that two syncs never share a state.
package syncstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/a0bulk/a0bulk/clock"
)

// Puts are written in one transaction (one fsync) per flushEvery entries or
// flushInterval, whichever comes first. A crash loses at most those: the
// users concerned are simply sent again on the next sync, which is safe.
// flushEvery also bounds the memory of the puts waiting.
const (
	flushEvery    = 1000
	flushInterval = time.Second
)

var (
	usersBucket = []byte("users")
	// metaBucket holds what the state knows of the syncs themselves.
	metaBucket   = []byte("meta")
	lastInputKey = []byte("last_input")
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("syncstate: store closed")

// Store is an open, locked sync state. It is safe for concurrent use; every
// use of the database goes through mu, which is what lets lookups share one
// read transaction and the store drop its memory map between them.
type Store struct {
	path string
	clk  clock.Clock
	lock *os.File

	mu sync.Mutex
	db *bolt.DB
	// rtx is the read transaction lookups share, begun by the first lookup
	// after a write: one transaction per lookup cost more than the lookup.
	// It is ended before every write (a write that grows the file remaps
	// it, which waits for every read transaction) and before a remap.
	rtx *bolt.Tx
	// users is the committed number of users, kept in the meta bucket so
	// that no one has to walk (and page in) the whole bucket to count it.
	users     int
	mapped    mapWatch         // when to drop the map (see remapLocked)
	pending   map[string]Entry // puts not yet committed, by key; at most flushEvery
	lastFlush time.Time
	closed    bool
	broken    error // a failed remap: the state can no longer be read
}

// Open locks the state at path (see lockState) and opens it, creating it
// with mode 0600. A state held by another sync gives a *LockedError.
func Open(path string, clk clock.Clock) (*Store, error) {
	now := clk.Now()
	lf, err := lockState(path, now)
	if err != nil {
		return nil, err
	}
	db, err := openDB(path)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// The create mode is filtered by the umask, and an existing file may
	// have been loosened: the state names every synced user.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		lf.Close()
		return nil, fmt.Errorf("set state %s mode 0600: %w", path, err)
	}
	s := &Store{path: path, clk: clk, lock: lf, db: db, mapped: newMapWatch(), pending: make(map[string]Entry, flushEvery), lastFlush: now}
	if err := s.init(); err != nil {
		db.Close()
		lf.Close()
		return nil, fmt.Errorf("init state %s: %w", path, err)
	}
	return s, nil
}

// openDB opens the bbolt file. Our lock already excludes other syncs, so
// bbolt's own file lock is free unless something else holds the file: then
// give up rather than wait forever.
//
// For a state of millions of users: the hashmap freelist, since the array
// one costs time in the number of free pages at every allocation and an
// update of scattered users frees pages all over the file. The freelist is
// still synced (NoFreelistSync would make every open, and so every remap,
// read every page of the file to rebuild it). No InitialMmapSize: the map is
// address space, not memory, and the pages a sync touches are what remaps
// bound.
func openDB(path string) (*bolt.DB, error) {
	return bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      5 * time.Second,
		OpenFile:     openNoFollow,
		FreelistType: bolt.FreelistMapType,
	})
}

// key is how emails are compared: Auth0 treats them case-insensitively.
func key(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// usable says why the store cannot be used, if it cannot.
func (s *Store) usable() error {
	if s.closed {
		return ErrClosed
	}
	return s.broken
}

// readTxLocked is the shared read transaction, begun if need be.
func (s *Store) readTxLocked() (*bolt.Tx, error) {
	if s.rtx == nil {
		tx, err := s.db.Begin(false)
		if err != nil {
			return nil, err
		}
		s.rtx = tx
	}
	return s.rtx, nil
}

func (s *Store) endReadLocked() {
	if s.rtx != nil {
		_ = s.rtx.Rollback() // a read transaction has nothing to lose
		s.rtx = nil
	}
}

// lookupLocked reads key k's committed entry.
func (s *Store) lookupLocked(k string) (Entry, bool, error) {
	tx, err := s.readTxLocked()
	if err != nil {
		return Entry{}, false, err
	}
	v := tx.Bucket(usersBucket).Get([]byte(k))
	if v == nil {
		return Entry{}, false, nil
	}
	// Decoded (copied) here: v points into the map a remap drops.
	e, err := decodeEntry(v)
	return e, true, err
}

// updateLocked runs f in a write transaction that also records the user
// count f returns.
func (s *Store) updateLocked(f func(tx *bolt.Tx) (users int, err error)) error {
	s.endReadLocked()
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if n, err = f(tx); err != nil {
			return err
		}
		return putUserCount(tx.Bucket(metaBucket), tx, n)
	})
	if err != nil {
		return err
	}
	s.users = n
	return nil
}

// Get returns the state's entry for email.
func (s *Store) Get(email string) (Entry, bool, error) {
	k := key(email)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return Entry{}, false, err
	}
	if e, ok := s.pending[k]; ok {
		return e, true, nil
	}
	e, found, err := s.lookupLocked(k)
	if err == nil {
		err = s.touchLocked(1)
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("read state %s for a user: %w", s.path, err)
	}
	return e, found, nil
}

// Len is the number of users the state remembers (committed, and batched
// puts not yet committed): the size a sync's input is compared with, so that
// a truncated export is noticed before it is sent.
func (s *Store) Len() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return 0, err
	}
	n := s.users
	for k := range s.pending {
		_, found, err := s.lookupLocked(k)
		if err != nil {
			return 0, fmt.Errorf("read state %s: %w", s.path, err)
		}
		if !found {
			n++
		}
	}
	return n, nil
}

// InputSize is what a sync read: its valid records, and when.
type InputSize struct {
	Records int       `json:"records"`
	At      time.Time `json:"at"`
}

// LastInput is the input size the last sync recorded; ok is false for a
// state no sync recorded one in (a new state, or one written before sizes
// were kept).
func (s *Store) LastInput() (size InputSize, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return size, false, err
	}
	tx, err := s.readTxLocked()
	if err == nil {
		if v := tx.Bucket(metaBucket).Get(lastInputKey); v != nil {
			ok = true
			err = json.Unmarshal(v, &size)
		}
	}
	if err != nil {
		return InputSize{}, false, fmt.Errorf("read state %s: %w", s.path, err)
	}
	return size, ok, nil
}

// SetLastInput records the size of the input a sync read (At from the
// clock): the next sync's input is compared with it. It is written at once.
func (s *Store) SetLastInput(records int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	v, err := json.Marshal(InputSize{Records: records, At: s.clk.Now().UTC()})
	if err != nil {
		return err
	}
	err = s.updateLocked(func(tx *bolt.Tx) (int, error) {
		return s.users, tx.Bucket(metaBucket).Put(lastInputKey, v)
	})
	if err != nil {
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	return nil
}

// Put records that the tenant confirmed the user with this email in the
// form hashed in e. SyncedAt is set from the clock when zero, and kept to
// the second. Puts are batched; Flush or Close commits them.
func (s *Store) Put(email string, e Entry) error {
	k := key(email)
	if k == "" {
		return errors.New("syncstate: put needs an email")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if e.SyncedAt.IsZero() {
		e.SyncedAt = s.clk.Now()
	}
	// As it will read back once committed.
	e.SyncedAt = e.SyncedAt.Truncate(time.Second).UTC()
	s.pending[k] = e
	if len(s.pending) >= flushEvery || s.clk.Now().Sub(s.lastFlush) >= flushInterval {
		return s.flushLocked()
	}
	return nil
}

// Flush commits the batched puts.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	return s.flushLocked()
}

// flushLocked commits the batched puts in one transaction, in key order
// (neighbours share pages), counting the users that are new.
func (s *Store) flushLocked() error {
	s.lastFlush = s.clk.Now()
	if len(s.pending) == 0 {
		return nil
	}
	keys := make([]string, 0, len(s.pending))
	for k := range s.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	err := s.updateLocked(func(tx *bolt.Tx) (int, error) {
		b := tx.Bucket(usersBucket)
		n := s.users
		for _, k := range keys {
			kb := []byte(k)
			if b.Get(kb) == nil {
				n++
			}
			if err := b.Put(kb, encodeEntry(s.pending[k])); err != nil {
				return 0, err
			}
		}
		return n, nil
	})
	if err != nil {
		// Keep pending: a later flush may succeed.
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	clear(s.pending)
	if err := s.touchLocked(len(keys)); err != nil {
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	return nil
}

// Close commits the batched puts, closes the state and releases the lock.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	var ferr error
	if s.broken == nil {
		ferr = s.flushLocked()
	} else {
		ferr = s.broken
	}
	s.endReadLocked()
	var cerr error
	if s.db != nil {
		cerr = s.db.Close()
	}
	s.lock.Close() // releases the flock; the file stays (see lockState)
	if ferr != nil {
		return ferr
	}
	if cerr != nil {
		return fmt.Errorf("close state %s: %w", s.path, cerr)
	}
	return nil
}
