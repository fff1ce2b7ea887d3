package export

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// sink is where a download goes: a temporary file, 0600, created anew
// (O_EXCL, never through a link), beside Out so that it can be renamed
// into place, or in the temp directory on its way to stdout. Its name says
// it is partial: a run killed before the rename leaves only that, never a
// file named Out.
type sink struct {
	f     *os.File
	temp  string
	final string // Out; "" for stdout
	done  bool
}

func newSink(out, tempDir string) (*sink, error) {
	dir, base := tempDir, "a0bulk-export"
	if out != "" {
		dir, base = filepath.Dir(out), filepath.Base(out)
	} else if dir == "" {
		dir = os.TempDir()
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:]) // never fails on supported platforms
	temp := filepath.Join(dir, "."+base+".a0bulk-partial-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(temp, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the export's file in %s: %w", dir, err)
	}
	return &sink{f: f, temp: temp, final: out}, nil
}

func (s *sink) name() string {
	if s.final != "" {
		return s.final
	}
	return "the temporary copy " + s.temp
}

// reset empties the file for another attempt.
func (s *sink) reset() error {
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("emptying %s for another download: %w", s.temp, err)
	}
	_, err := s.f.Seek(0, io.SeekStart)
	return err
}

// publish makes the complete file Out (synced, then linked to its name,
// which must still not exist) or copies it to stdout, and returns its
// size.
func (s *sink) publish(stdout io.Writer) (int64, error) {
	if s.final == "" {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		n, err := io.Copy(stdout, s.f)
		if err != nil {
			return n, fmt.Errorf("writing the export to stdout: %w", err)
		}
		return n, nil
	}
	fi, err := s.f.Stat()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", s.temp, err)
	}
	if err := place(s.temp, s.final); err != nil {
		return 0, err
	}
	s.done = true
	syncDir(filepath.Dir(s.final))
	return fi.Size(), nil
}

// place renames temp to final without ever replacing a file: a hard link
// fails if final exists (someone made it meanwhile), then temp goes. On a
// file system without hard links, a rename after checking.
func place(temp, final string) error {
	appeared := fmt.Errorf("--out %s: %w: it appeared while the export ran, and is left as it is (export again to another name)", final, ErrOutExists)
	err := os.Link(temp, final)
	switch {
	case err == nil:
		return os.Remove(temp)
	case errors.Is(err, fs.ErrExist):
		return appeared
	}
	if _, serr := os.Lstat(final); !errors.Is(serr, fs.ErrNotExist) {
		return appeared
	}
	if err := os.Rename(temp, final); err != nil {
		return fmt.Errorf("moving the export into %s: %w", final, err)
	}
	return nil
}

// discard removes the temporary file unless it became Out.
func (s *sink) discard() {
	if s.done {
		return
	}
	s.f.Close()
	os.Remove(s.temp)
}

// syncDir makes a rename in dir durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Partials are the partial files an export to out left behind when it was
// killed outright (SIGKILL) before it could remove them: a caller that
// exports to out again may delete them.
func Partials(out string) ([]string, error) {
	return filepath.Glob(filepath.Join(filepath.Dir(out), "."+globEscape(filepath.Base(out))+".a0bulk-partial-*"))
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}
