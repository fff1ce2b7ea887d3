package run

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/syncstate"
)

// refusedBeforeTheTenant checks a sync refused with a usage error naming
// want, having sent nothing, written no report, and left the state as it
// was.
func (e *syncEnv) refusedBeforeTheTenant(r syncResult, before sandbox.Stats, want ...string) {
	e.t.Helper()
	var ue *UsageError
	if !errors.As(r.err, &ue) {
		e.t.Fatalf("err = %v, want a usage error (exit 2)", r.err)
	}
	for _, w := range want {
		if !strings.Contains(r.err.Error(), w) {
			e.t.Errorf("%q does not say %q", r.err, w)
		}
	}
	if r.sum != nil {
		e.t.Errorf("a refused sync has a summary: %+v", r.sum)
	}
	if d := delta(before, e.sb.Stats()); len(d) != 0 {
		e.t.Errorf("a refused sync reached the tenant: %v", d)
	}
	if _, err := os.Stat(r.report); !os.IsNotExist(err) {
		e.t.Errorf("a refused sync wrote its report: %v", err)
	}
}

func (e *syncEnv) lastInput() (syncstate.InputSize, bool) {
	e.t.Helper()
	st, err := syncstate.Open(e.state, clock.Real{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	size, ok, err := st.LastInput()
	if err != nil {
		e.t.Fatal(err)
	}
	return size, ok
}

// A sync whose input shrank under half of the previous sync's input (a
// broken export) is refused before any call to the tenant, saying the
// numbers; --allow-shrink lets it run, and it becomes the new reference.
func TestSyncRefusesAShrunkInput(t *testing.T) {
	for _, mode := range []string{"import", "create"} {
		t.Run(mode, func(t *testing.T) {
			e := newSyncEnv(t, mode, sandbox.Config{})
			all := users("u", 10)
			if r := e.sync(e.input(all...), func(s *Spec) { s.Guard.MinRecords = 1 }); r.err != nil {
				t.Fatalf("first sync: %v", r.err)
			}
			if size, ok := e.lastInput(); !ok || size.Records != 10 {
				t.Fatalf("the state recorded %+v %v, want 10 records", size, ok)
			}

			// 4 of 10: refused. An invalid row does not count.
			before := e.sb.Stats()
			broken := append(all[:4:4], syncUser{"not-an-email", "X"})
			r := e.sync(e.input(broken...))
			e.refusedBeforeTheTenant(r, before, "the input has 4 valid records", "under 50% of the 10 valid records the previous sync read", "--allow-shrink")
			if size, _ := e.lastInput(); size.Records != 10 {
				t.Fatalf("a refused sync changed the reference to %d", size.Records)
			}

			// Exactly half is not a shrink beyond the floor.
			if r := e.sync(e.input(all[:5]...)); r.err != nil {
				t.Fatalf("5 of 10: %v", r.err)
			}
			// The reference is now 5: 2 is refused, and allowed with --allow-shrink.
			r = e.sync(e.input(all[:2]...))
			e.refusedBeforeTheTenant(r, e.sb.Stats(), "2 valid records", "of the 5 valid records")
			if r := e.sync(e.input(all[:2]...), func(s *Spec) { s.Guard.AllowShrink = true }); r.err != nil {
				t.Fatalf("--allow-shrink: %v", r.err)
			}
			if size, _ := e.lastInput(); size.Records != 2 {
				t.Fatalf("after --allow-shrink the reference is %d, want 2", size.Records)
			}
		})
	}
}

// An empty input is refused by --min-records even on a first sync, when
// there is nothing to compare with; --min-records 0 lets it run.
func TestSyncMinRecords(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	empty := e.input()
	r := e.sync(empty, func(s *Spec) { s.Guard.MinRecords = 1 })
	e.refusedBeforeTheTenant(r, sandbox.Stats{}, "the input has 0 valid records, fewer than --min-records 1")
	r = e.sync(e.input(users("u", 3)...), func(s *Spec) { s.Guard.MinRecords = 5 })
	e.refusedBeforeTheTenant(r, sandbox.Stats{}, "3 valid records, fewer than --min-records 5")
	if r := e.sync(empty, func(s *Spec) { s.Guard.MinRecords = 0 }); r.err != nil {
		t.Fatalf("--min-records 0: %v", r.err)
	}
}

// A state written before input sizes were kept is compared with the users
// it remembers.
func TestSyncGuardOnAnOlderState(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	st, err := syncstate.Open(e.state, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users("old", 8) {
		if err := st.Put(u.email, syncstate.Entry{Hash: hashOf("h")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.sync(e.input(users("u", 3)...))
	e.refusedBeforeTheTenant(r, sandbox.Stats{}, "3 valid records, under 50% of the 8 users the sync state remembers")
}

// A sync's dry run applies the same guard, offline.
func TestSyncDryRunGuard(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	if r := e.sync(e.input(users("u", 6)...)); r.err != nil {
		t.Fatal(r.err)
	}
	spec := e.spec(e.input(users("u", 2)...))
	_, err := DryRun(context.Background(), Env{}, spec, nil)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "2 valid records, under 50% of the 6") {
		t.Fatalf("dry run: %v, want the guard's usage error", err)
	}
	spec.Guard.AllowShrink = true
	if _, err := DryRun(context.Background(), Env{}, spec, nil); err != nil {
		t.Fatalf("dry run with --allow-shrink: %v", err)
	}
	// No state yet: only --min-records applies.
	e2 := newSyncEnv(t, "import", sandbox.Config{})
	spec = e2.spec(e2.input())
	spec.Guard.MinRecords = 1
	if _, err := DryRun(context.Background(), Env{}, spec, nil); !errors.As(err, &ue) {
		t.Fatalf("dry run of an empty input: %v, want a usage error", err)
	}
}

// The gate is told what the guard counted.
func TestSyncGateIsToldTheCounts(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	if r := e.sync(e.input(users("u", 6)...)); r.err != nil {
		t.Fatal(r.err)
	}
	var got Intent
	env := e.env()
	env.Gate = func(_ context.Context, i Intent) error { got = i; return nil }
	spec := e.spec(e.input(users("u", 5)...))
	if _, err := Run(context.Background(), env, spec); err != nil {
		t.Fatal(err)
	}
	if got.Command != ModeSync || got.SendMode != ModeImport || got.Records != 5 || got.State != 6 || !got.Upsert || got.Connection != syncConn {
		t.Fatalf("intent %+v", got)
	}
}
