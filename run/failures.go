package run

import (
	"context"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// FailedUser is a record as --input reads it back; Password only in create
// mode.
type FailedUser struct {
	input.User
	Password string `json:"password,omitempty"`
}

// ReadFailures opens the report at path to read its run's inputs again, at
// each recorded file:line, for the records that failed or are still
// unsettled: passwords and hashes stay in the source and never enter the
// report. It refuses, as a resume does, inputs or a map file changed since
// the run, before anything is read or written, and a report of another
// tenant than env.Target's domain: it is offline, so only a configured
// domain is compared (none configured, nothing is).
func ReadFailures(env Env, path string) (*FailureReader, error) {
	env.defaults()
	ro, err := reopen(&env, path, "report", report.Load)
	if err != nil {
		return nil, err
	}
	return &FailureReader{ro: ro}, nil
}

// FailureReader is a report whose run's inputs can be read again.
type FailureReader struct{ ro *reopened }

// Each hands out every failed or unsettled record. Invalid records go to
// invalid instead, with their reasons, to be fixed in the source: what was
// parsed of one may lack the bad field (an unreadable boolean is dropped),
// so printing it would let a retry import less than the source says. It
// returns the number of invalid records.
func (f *FailureReader) Each(ctx context.Context, env Env, failed func(FailedUser) error, invalid func(file string, line int, reason string)) (int, error) {
	env.defaults()
	ro := f.ro
	n := 0
	rd := reading{in: ro.in, stdin: env.Stdin}
	err := rd.stream(ctx, func(rec input.Record) error {
		f, ok := ro.State.FinalOf(keyOf(rec))
		switch {
		case ok && f.Status.Succeeded():
			return nil
		case (ok && f.Status == report.Invalid) || !rec.Valid():
			n++
			invalid(rec.File, rec.Line, describe(rec.Errors))
			return nil
		}
		return failed(FailedUser{User: rec.User, Password: rec.Password})
	})
	return n, err
}
