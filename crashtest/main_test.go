package crashtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binPath is the a0bulk binary under test, built once by TestMain. It is
// built without -race: the crash test is about the binary's behaviour, and
// the race detector would only slow the many runs down.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// CRASHTEST_BIN runs the test against a binary built elsewhere (an
	// older release, a build with -race).
	if bin := os.Getenv("CRASHTEST_BIN"); bin != "" {
		binPath = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "a0bulk-crashtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "a0bulk")
	if err := buildBinary(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		return 1
	}
	return m.Run()
}

// buildBinary builds the module's main package from the module root found
// with `go env GOMOD`, so the test does not depend on its working directory.
func buildBinary(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return fmt.Errorf("not inside a Go module (go env GOMOD = %q)", gomod)
	}
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building a0bulk: %w\n%s", err, b)
	}
	return nil
}
