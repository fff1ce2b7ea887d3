package export_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/sandbox"
)

const killChild = "A0BULK_EXPORT_KILL_DIR"

// An export killed (SIGKILL) after its file is written whole but before
// the rename leaves no file named --out: only the temporary one, whose
// name says it is partial. The export runs in a child process (this test
// binary again), which kills itself at that point.
func TestExportKilledBeforeRename(t *testing.T) {
	if dir := os.Getenv(killChild); dir != "" {
		tn := newTenant(t, sandbox.Config{JobDelay: -1}, 40)
		o := tn.options(&logbook{})
		o.Out = dir + "/users.ndjson"
		export.SetBeforePublish(&o, func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) })
		_, err := tn.run(t, o)
		t.Fatalf("the export returned (%v) instead of being killed", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestExportKilledBeforeRename$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChild+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended %v, want killed by SIGKILL\n%s", err, out)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), ".users.ndjson.a0bulk-partial-") {
		t.Fatalf("after the kill the directory holds %v, want only the partial file", ents)
	}
	if _, err := os.Stat(dir + "/users.ndjson"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--out exists after the kill: %v", err)
	}
	if fi, _ := ents[0].Info(); fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Errorf("partial file: mode %v, %d bytes", fi.Mode().Perm(), fi.Size())
	}
}
