package run

import (
	"context"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// Every run that writes to a tenant passes one gate, Env.Gate, after all of
// its own checks (usage errors, exit 2; a sync's guard) and before its first
// call to the tenant's API: the caller checks there that the token carries
// the scopes the run will need, and on a terminal asks the operator to
// confirm. A run refused at the gate has written nothing, neither to the
// tenant nor a report, so it can simply be run again.

// Intent is what a run is about to do, as the gate is told it.
type Intent struct {
	Command Mode // import, create, sync or verify
	// SendMode is how records reach the tenant: ModeImport (jobs) or
	// ModeCreate (one request each); "" for verify.
	SendMode            Mode
	Target              report.Tenant // the tenant, as configured
	Connection          string        // "" for verify
	Upsert              bool
	VerifyEmail         bool
	SendCompletionEmail bool
	// Inputs are the files the run reads; a pipe's copy names the pipe in
	// From. None for verify --report (it reads the run's own inputs).
	Inputs []report.Input
	Report string // the report written, or appended to
	// Resume: the report is continued; Done of its records are final.
	Resume bool
	Done   int
	// Records is the number of valid records when the run counted them
	// before the gate (a sync's guard does), else -1; State the users a
	// sync's state remembers.
	Records int
	State   int
	// DryRun: nothing will be written; the gate checks the scopes the real
	// run would need, and asks nothing.
	DryRun bool
}

// gate passes i through env.Gate (none: open).
func (e *Env) gate(ctx context.Context, i Intent) error {
	if e.Gate == nil {
		return nil
	}
	return e.Gate(ctx, i)
}

// intent describes the run spec's journal plan will write.
func (s Spec) intent(env *Env, jp *journalPlan) Intent {
	i := Intent{
		Command: s.Mode, SendMode: ModeImport, Target: env.Target, Connection: s.Connection,
		Upsert: s.Upsert, VerifyEmail: s.VerifyEmail, SendCompletionEmail: s.SendCompletionEmail,
		Inputs: jp.header.Inputs, Report: jp.path, Records: -1,
	}
	if s.sendMode() == input.ModeCreate {
		i.SendMode = ModeCreate
	}
	if jp.res != nil {
		i.Resume, i.Done = true, jp.res.State.Finals()
	}
	return i
}

// dryIntent is the intent of a dry run of s, which counted valid records.
func (s Spec) dryIntent(env *Env, valid int) Intent {
	i := s.intent(env, &journalPlan{})
	i.DryRun, i.Records, i.Report = true, valid, ""
	return i
}
