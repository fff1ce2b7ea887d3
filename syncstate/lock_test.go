package syncstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// A sync run by root must not write through a link someone planted where
// the state or its lock go: Open refuses, and the file it points at is
// untouched.
func TestOpenRefusesLinks(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   string // the planted path, relative to the state
		link func(target, at string) error
	}{
		{"symlinked lock", ".lock", os.Symlink},
		{"hard-linked lock", ".lock", os.Link},
		{"symlinked state", "", os.Symlink},
		{"hard-linked state", "", os.Link},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(dir, "victim")
			const content = "root:x:0:0:root:/root:/bin/bash\n"
			if err := os.WriteFile(victim, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(dir, "state.db")
			if err := tc.link(victim, state+tc.at); err != nil {
				t.Fatal(err)
			}
			s, err := Open(state, clock.NewFake(time.Unix(0, 0)))
			if err == nil {
				s.Close()
				t.Fatal("Open wrote through a planted link")
			}
			t.Log(err)
			if b, _ := os.ReadFile(victim); string(b) != content {
				t.Fatalf("the victim was changed to %q", b)
			}
		})
	}
}
