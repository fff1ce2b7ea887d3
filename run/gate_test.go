package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

var errShut = errors.New("gate shut")

// gateRecorder is a gate that records what it was told, and answers err.
type gateRecorder struct {
	seen []Intent
	err  error
}

func (g *gateRecorder) gate(_ context.Context, i Intent) error {
	g.seen = append(g.seen, i)
	return g.err
}

func writeInput(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every import and create passes the gate after its own checks and before
// its first request: a shut gate leaves the tenant untouched (not even a
// token is fetched by the run) and no report behind.
func TestRunsStopAtAShutGate(t *testing.T) {
	for _, mode := range []Mode{ModeImport, ModeCreate} {
		t.Run(string(mode), func(t *testing.T) {
			tt := newTestTenant(t, sandbox.Config{JobDelay: -1})
			dir := t.TempDir()
			body := "email\na@example.com\nb@example.com\n"
			if mode == ModeCreate {
				body = "email,password\na@example.com,Correct-Horse-9-Battery\nb@example.com,Correct-Horse-9-Battery\n"
			}
			in := writeInput(t, dir, "users.csv", body)
			spec := Spec{Mode: mode, Connection: "Username-Password-Authentication", Inputs: []string{in}, Upsert: true,
				ReportPath: filepath.Join(dir, "run.ndjson"), Settings: Defaults()}
			spec.VerifyEmail = mode == ModeCreate
			g := &gateRecorder{err: errShut}
			env := tt.env(t)
			env.Gate = g.gate
			sum, err := Run(context.Background(), env, spec)
			if !errors.Is(err, errShut) || sum != nil {
				t.Fatalf("Run = %+v, %v; want the gate's error and no summary", sum, err)
			}
			if n := tt.requests(); n != 0 {
				t.Fatalf("a run stopped at the gate sent %d requests: %v", n, tt.sb().Stats().Requests)
			}
			if _, err := os.Stat(spec.ReportPath); !os.IsNotExist(err) {
				t.Fatalf("a run stopped at the gate wrote its report: %v", err)
			}
			if len(g.seen) != 1 {
				t.Fatalf("the gate was asked %d times", len(g.seen))
			}
			i := g.seen[0]
			wantSend := ModeImport
			if mode == ModeCreate {
				wantSend = ModeCreate
			}
			if i.Command != mode || i.SendMode != wantSend || i.Connection != spec.Connection || !i.Upsert || i.VerifyEmail != (mode == ModeCreate) ||
				i.Report != spec.ReportPath || i.Resume || i.Records != -1 || i.DryRun || i.Target.Domain != tt.host {
				t.Errorf("intent %+v", i)
			}
			if len(i.Inputs) != 1 || i.Inputs[0].Path != in || i.Inputs[0].Size == 0 {
				t.Errorf("intent inputs %+v", i.Inputs)
			}

			// Open, the same run goes through.
			g.err = nil
			if _, err := Run(context.Background(), env, spec); err != nil {
				t.Fatalf("with the gate open: %v", err)
			}
		})
	}
}

// A usage error the run finds itself comes first: the gate (which may
// fetch a token and ask the operator) is not asked about a run that cannot
// start.
func TestGateAfterTheRunsOwnChecks(t *testing.T) {
	tt := newTestTenant(t, sandbox.Config{JobDelay: -1})
	dir := t.TempDir()
	in := writeInput(t, dir, "users.csv", "email\na@example.com\n")
	exists := writeInput(t, dir, "run.ndjson", "{}\n")
	g := &gateRecorder{}
	env := tt.env(t)
	env.Gate = g.gate
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{in}, ReportPath: exists, Settings: Defaults()}
	var ue *UsageError
	if _, err := Run(context.Background(), env, spec); !errors.As(err, &ue) {
		t.Fatalf("err = %v, want the report's usage error", err)
	}
	if len(g.seen) != 0 {
		t.Fatalf("the gate was asked about a run that cannot start: %+v", g.seen)
	}
}

// A resume tells the gate how much of the run is done; a dry run asks the
// gate (for the scopes) before its connection lookup, marked as a dry run.
func TestGateOnResumeAndDryRun(t *testing.T) {
	tt := newTestTenant(t, sandbox.Config{})
	path := stoppedCreate(t, tt)
	g := &gateRecorder{}
	env := tt.env(t)
	env.Gate = g.gate
	spec, err := Recorded(path, ModeCreate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), env, spec); err != nil {
		t.Fatal(err)
	}
	if len(g.seen) != 1 || !g.seen[0].Resume || g.seen[0].Done < 1 || g.seen[0].Report != path {
		t.Fatalf("resume intent %+v", g.seen)
	}

	g.seen, g.err = nil, errShut
	before := tt.requests()
	dry := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Settings: Defaults(),
		Inputs: []string{writeInput(t, t.TempDir(), "u.csv", "email\na@example.com\nb@example.com\n")}}
	if _, err := DryRun(context.Background(), env, dry, nil); !errors.Is(err, errShut) {
		t.Fatalf("dry run: %v, want the gate's error", err)
	}
	if len(g.seen) != 1 || !g.seen[0].DryRun || g.seen[0].Records != 2 || g.seen[0].Command != ModeImport {
		t.Fatalf("dry run intent %+v", g.seen)
	}
	if n := tt.requests() - before; n != 0 {
		t.Fatalf("a dry run stopped at the gate sent %d requests", n)
	}
}

// verify passes the gate too, from a report and from input files; from
// input, a shut gate leaves no report.
func TestVerifyStopsAtAShutGate(t *testing.T) {
	f := newVerifyFixture(t, sandbox.Config{JobDelay: -1})
	g := &gateRecorder{err: errShut}
	env := Env{Connect: testConnect(t, f.ts.URL), Gate: g.gate}
	before := f.sb.Stats()
	if _, err := Verify(context.Background(), env, VerifySpec{FromReport: f.path}); !errors.Is(err, errShut) {
		t.Fatalf("verify --report: %v", err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "verify.ndjson")
	in := writeInput(t, dir, "u.csv", "email\na@example.com\n")
	if _, err := Verify(context.Background(), env, VerifySpec{Inputs: []string{in}, ReportPath: out}); !errors.Is(err, errShut) {
		t.Fatalf("verify --input: %v", err)
	}
	if d := delta(before, f.sb.Stats()); len(d) != 0 {
		t.Fatalf("a verify stopped at the gate reached the tenant: %v", d)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("verify --input stopped at the gate wrote its report: %v", err)
	}
	if len(g.seen) != 2 || g.seen[0].Command != ModeVerify || g.seen[0].Report != f.path || !g.seen[0].Resume ||
		g.seen[1].Report != out || len(g.seen[1].Inputs) != 1 {
		t.Fatalf("verify intents %+v", g.seen)
	}
	st, err := report.Load(f.path)
	if err != nil || st.Verifications() == 0 {
		t.Fatalf("the run's report: %v", err)
	}
	if b, _ := os.ReadFile(f.path); strings.Contains(string(b), "verification_sent") {
		t.Fatalf("verify stopped at the gate appended to the report")
	}
}
