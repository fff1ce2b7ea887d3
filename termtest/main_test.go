package termtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binPath is the a0bulk binary under test, built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// TERMTEST_BIN runs the tests against a binary built elsewhere (an
	// older release, to see them fail).
	if bin := os.Getenv("TERMTEST_BIN"); bin != "" {
		binPath = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "a0bulk-termtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "termtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "a0bulk")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "termtest: go env GOMOD:", err)
		return 1
	}
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "termtest: building a0bulk: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
