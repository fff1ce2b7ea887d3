package main

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/a0bulk/a0bulk/"

// imports returns the module packages pkg imports (not its tests),
// directly or, with deep, through others.
func imports(t *testing.T, pkg string, deep bool) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		bp, err := build.ImportDir(filepath.FromSlash(p), 0)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			if rel, ok := strings.CutPrefix(imp, module); ok && !seen[rel] {
				seen[rel] = true
				if deep {
					walk(rel)
				}
			}
		}
	}
	walk(pkg)
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// TestArchitecture keeps the arrows docs/ARCHITECTURE.md draws: the cli is
// wiring over the core, the core over the libraries, and the offline
// packages never reach the tenant.
func TestArchitecture(t *testing.T) {
	for _, tc := range []struct {
		pkg    string
		deep   bool
		forbid []string
	}{
		// Nothing but main imports cli; no library imports the core.
		{"run", true, []string{"cli", "preflight", "progress", "sandbox"}},
		{"jobs", true, []string{"cli", "run", "create"}},
		{"create", true, []string{"cli", "run", "jobs"}},
		{"preflight", true, []string{"cli", "run"}},
		// export is a core of its own: the client and jobs.Await, never
		// another command's core.
		{"export", true, []string{"cli", "run", "create", "preflight", "progress", "sandbox", "syncstate"}},
		// migrate composes the export and import cores; nothing but the
		// cli imports it.
		{"migrate", true, []string{"cli", "preflight", "progress", "sandbox"}},
		{"migrate", false, []string{"create", "syncstate", "jobs"}},
		{"run", false, []string{"migrate"}},
		{"export", false, []string{"migrate"}},
		{"progress", true, []string{"cli", "run", "management"}},
		{"management", true, []string{"cli", "run", "jobs", "create", "input", "report", "syncstate"}},
		// Offline: never the client.
		{"input", true, []string{"management", "throttle", "cli", "run"}},
		{"report", true, []string{"management", "throttle", "cli", "run"}},
		{"syncstate", true, []string{"management", "throttle", "cli", "run"}},
		{"hashes", true, []string{"management", "throttle", "cli", "run", "report"}},
		// The cli calls the core (jobs.Wait is `jobs wait`'s core), never
		// the runs' building blocks.
		{"cli", false, []string{"create", "syncstate", "hashes"}},
	} {
		got := imports(t, tc.pkg, tc.deep)
		for _, f := range tc.forbid {
			if slices.Contains(got, f) {
				t.Errorf("%s imports %s (it imports %v)", tc.pkg, f, got)
			}
		}
	}
}
