// Package syncstate remembers, between nightly `a0bulk sync` runs, which
// users the tenant already holds in their current form, so that unchanged
// records are skipped. It is a bbolt file (crash-safe, updated in place)
// guarded by a lock so that two syncs never share a state.
package syncstate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/a0bulk/a0bulk/clock"
)

// Puts are written in one transaction (one fsync) per flushEvery entries or
// flushInterval, whichever comes first. A crash loses at most those: the
// users concerned are simply sent again on the next sync, which is safe.
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

// Entry is what the state remembers of a user the tenant confirmed.
type Entry struct {
	// Hash is RecordHash of the mapped user that was synced.
	Hash     string    `json:"hash"`
	UserID   string    `json:"user_id"`
	SyncedAt time.Time `json:"synced_at"`
}

// Store is an open, locked sync state. It is safe for concurrent use.
type Store struct {
	path string
	clk  clock.Clock
	lock *os.File
	db   *bolt.DB

	mu        sync.Mutex
	pending   map[string]Entry // puts not yet committed, by key
	lastFlush time.Time
	closed    bool
}

// Open locks the state at path (see lockState) and opens it, creating it
// with mode 0600. A state held by another sync gives a *LockedError.
func Open(path string, clk clock.Clock) (*Store, error) {
	now := clk.Now()
	lf, err := lockState(path, now)
	if err != nil {
		return nil, err
	}
	// Our lock already excludes other syncs, so bbolt's own file lock is
	// free unless something else holds the file: then give up rather than
	// wait forever.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, OpenFile: openNoFollow})
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
	if err := db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(usersBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(metaBucket)
		return err
	}); err != nil {
		db.Close()
		lf.Close()
		return nil, fmt.Errorf("init state %s: %w", path, err)
	}
	return &Store{path: path, clk: clk, lock: lf, db: db, pending: make(map[string]Entry), lastFlush: now}, nil
}

// key is how emails are compared: Auth0 treats them case-insensitively.
func key(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Get returns the state's entry for email.
func (s *Store) Get(email string) (Entry, bool, error) {
	k := key(email)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Entry{}, false, ErrClosed
	}
	if e, ok := s.pending[k]; ok {
		s.mu.Unlock()
		return e, true, nil
	}
	s.mu.Unlock()
	var (
		e     Entry
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(usersBucket).Get([]byte(k))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &e)
	})
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
	if s.closed {
		return 0, ErrClosed
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(usersBucket)
		n = b.Stats().KeyN
		for k := range s.pending {
			if b.Get([]byte(k)) == nil {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read state %s: %w", s.path, err)
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
	if s.closed {
		return size, false, ErrClosed
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(metaBucket).Get(lastInputKey)
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &size)
	})
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
	if s.closed {
		return ErrClosed
	}
	v, err := json.Marshal(InputSize{Records: records, At: s.clk.Now().UTC()})
	if err != nil {
		return err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(metaBucket).Put(lastInputKey, v) }); err != nil {
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	return nil
}

// Put records that the tenant confirmed the user with this email in the
// form hashed in e. SyncedAt is set from the clock when zero. Puts are
// batched; Flush or Close commits them.
func (s *Store) Put(email string, e Entry) error {
	k := key(email)
	if k == "" {
		return errors.New("syncstate: put needs an email")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if e.SyncedAt.IsZero() {
		e.SyncedAt = s.clk.Now().UTC()
	}
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
	if s.closed {
		return ErrClosed
	}
	return s.flushLocked()
}

func (s *Store) flushLocked() error {
	s.lastFlush = s.clk.Now()
	if len(s.pending) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(usersBucket)
		for k, e := range s.pending {
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Keep pending: a later flush may succeed.
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	clear(s.pending)
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
	ferr := s.flushLocked()
	cerr := s.db.Close()
	s.lock.Close() // releases the flock; the file stays (see lockState)
	if ferr != nil {
		return ferr
	}
	if cerr != nil {
		return fmt.Errorf("close state %s: %w", s.path, cerr)
	}
	return nil
}

// RecordHash is the hex SHA-256 of v's JSON encoding, which is canonical for
// the mapped user: struct fields keep their order and encoding/json sorts
// map keys. A value that cannot be encoded hashes to "", which matches no
// stored hash, so the user is sent: the safe side.
func RecordHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
