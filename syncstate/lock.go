package syncstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// LockedError is returned by Open when another sync holds the state.
type LockedError struct {
	Path    string
	PID     int
	Started time.Time
	Host    string
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		// The holder took the lock but has not written its details yet.
		return fmt.Sprintf("state %s is locked by another process", e.Path)
	}
	s := fmt.Sprintf("state %s is locked by pid %d (started %s", e.Path, e.PID, e.Started.Format(time.RFC3339))
	if e.Host != "" {
		s += " on " + e.Host
	}
	return s + ")"
}

// holder is what the lock file says about who holds it. It is information
// for the person reading the error only: the flock is the lock.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// lockState takes the sidecar lock PATH.lock for the state at path.
//
// The lock is flock(2) on the sidecar, not the sidecar's existence: the
// kernel drops a flock when its holder exits, however it dies (SIGKILL,
// power loss), so a lock file left by a dead sync holds no lock and the next
// Open simply takes it and rewrites the holder details. For the same reason
// Close leaves the file in place: unlinking it would let a newcomer lock a
// new file while a waiter still locks the old inode, and both would run.
func lockState(path string, started time.Time) (*os.File, error) {
	lockPath := path + ".lock"
	f, err := openNoFollow(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open state lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h := readHolder(f)
			return nil, &LockedError{Path: path, PID: h.PID, Started: h.Started, Host: h.Host}
		}
		return nil, fmt.Errorf("lock state %s: %w", path, err)
	}
	host, _ := os.Hostname()
	b, err := json.Marshal(holder{PID: os.Getpid(), Host: host, Started: started})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("encode state lock holder: %w", err)
	}
	// Truncate first: a previous holder's longer details must not survive.
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write state lock %s: %w", lockPath, err)
	}
	if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write state lock %s: %w", lockPath, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("set state lock %s mode 0600: %w", lockPath, err)
	}
	return f, nil
}

// readHolder reads the holder details; unreadable details leave it zero
// (the error then says the state is locked without naming a pid).
func readHolder(f *os.File) holder {
	var h holder
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return h
	}
	_ = json.Unmarshal(b, &h)
	return h
}

// openNoFollow opens path refusing a symlink (O_NOFOLLOW) and anything but
// a regular file with one link: a sync run by root from cron truncates and
// writes the lock, and must never be turned onto another file (`ln -s
// /etc/passwd STATE.lock`, or a hard link).
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; a0bulk does not follow it", path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.Mode().IsRegular() || (ok && st.Nlink != 1) {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file with a single link; a0bulk does not write through it", path)
	}
	return f, nil
}
