package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/a0bulk/a0bulk/preflight"
	"github.com/a0bulk/a0bulk/run"
)

// A run passes run.Env.Gate after its own checks and before its first call
// to the tenant's API. Here the gate is: the token's scopes cover what the
// run will call (requireScopes), then, when a person is at a terminal, they
// are shown what is about to be written where, and asked. --yes (A0BULK_YES)
// skips the question; off a terminal (stdin or stderr not a TTY: cron, CI,
// a pipe) nothing is asked and nothing is refused for want of an answer.

// gate is the run's gate over the client the run connects with (client
// returns it: the token fetched for the check is the run's).
func (t tenantOptions) gate(s *IOStreams, client func() (tokenInfo, error)) func(context.Context, run.Intent) error {
	return func(ctx context.Context, i run.Intent) error {
		api, err := client()
		if err != nil {
			return err
		}
		use := preflight.Use{Command: string(i.Command), SyncMode: string(i.SendMode), Upsert: i.Upsert, VerifyEmail: i.VerifyEmail}
		if err := t.requireScopes(ctx, api, use, s.ErrOut); err != nil {
			return err
		}
		if i.DryRun || t.Yes || !s.CanPrompt() {
			return nil
		}
		return confirm(ctx, s, i)
	}
}

// confirm shows what the run will do and reads the answer: y or yes goes
// on; anything else, or the end of input, stops the run (exit 2) with
// nothing sent.
func confirm(ctx context.Context, s *IOStreams, i run.Intent) error {
	return ask(ctx, s, describeIntent(i), i.Target.Domain)
}

// ask shows what (lines ending with a newline) and reads the answer: y or
// yes goes on; anything else, or the end of input, stops (exit 2), saying
// nothing was sent to tenants.
func ask(ctx context.Context, s *IOStreams, what, tenants string) error {
	fmt.Fprint(s.ErrOut, what+"Continue? [y/N] ")
	answer, err := readAnswer(ctx, s.In)
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return usagef("not confirmed: nothing was sent to %s (--yes or A0BULK_YES=1 skips the question)", tenants)
}

// readAnswer reads one line, a byte at a time so that nothing after it is
// taken from a stdin the run may read next. It gives up when ctx ends (a
// Ctrl-C while the question waits).
func readAnswer(ctx context.Context, in io.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() {
		var b strings.Builder
		one := make([]byte, 1)
		for {
			n, err := in.Read(one)
			if n == 1 {
				if one[0] == '\n' {
					break
				}
				b.WriteByte(one[0])
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				got <- line{b.String(), err}
				return
			}
		}
		got <- line{b.String(), nil}
	}()
	select {
	case l := <-got:
		return l.s, l.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// describeIntent is the summary the question is asked about, one line per
// fact, ending with a newline.
func describeIntent(i run.Intent) string {
	var b strings.Builder
	tenant := i.Target.Domain
	if i.Target.ClientID != "" {
		tenant += fmt.Sprintf(" (client %s)", i.Target.ClientID)
	}
	fmt.Fprintf(&b, "a0bulk is about to write to the Auth0 tenant %s:\n", tenant)
	row := func(k, format string, args ...any) { fmt.Fprintf(&b, "  %-11s %s\n", k, fmt.Sprintf(format, args...)) }
	row(string(i.Command), "%s", intentAction(i))
	for n, in := range i.Inputs {
		k := ""
		if n == 0 {
			k = "input"
		}
		switch {
		case in.From != "":
			row(k, "%s (read from %s, kept as %s)", humanBytes(in.Size), in.From, filepath.Base(in.Path))
		default:
			row(k, "%s (%s)", in.Path, humanBytes(in.Size))
		}
	}
	if i.Records >= 0 {
		if i.State > 0 {
			row("records", "%d valid (%d known from earlier syncs)", i.Records, i.State)
		} else {
			row("records", "%d valid", i.Records)
		}
	}
	if i.Command != run.ModeVerify {
		row("existing", "%s", existingUsers(i))
		row("emails", "%s", intentEmails(i))
	}
	switch {
	case i.Resume && i.Command == run.ModeVerify:
		row("report", "%s (appended to)", i.Report)
	case i.Resume:
		row("resume", "%s: %d records already final", i.Report, i.Done)
	default:
		row("report", "%s", i.Report)
	}
	return b.String()
}

func intentAction(i run.Intent) string {
	into := fmt.Sprintf("connection %q", i.Connection)
	switch {
	case i.Command == run.ModeVerify && i.Resume:
		return "send a verification email to each user of the report's run whose email is not verified and was not sent one"
	case i.Command == run.ModeVerify:
		return "send a verification email to each user of the input"
	case i.Command == run.ModeSync && i.SendMode == run.ModeCreate:
		return "create new and update changed users, one request each, in " + into
	case i.Command == run.ModeSync:
		return "import new and changed users (bulk-import jobs with upsert) into " + into
	case i.SendMode == run.ModeCreate:
		return "create users one request each in " + into
	}
	return "import users with bulk-import jobs into " + into
}

func existingUsers(i run.Intent) string {
	switch {
	case !i.Upsert:
		return "skipped (no --upsert)"
	case i.SendMode == run.ModeImport:
		return "overwritten (upsert: Auth0 replaces their metadata)"
	}
	return "updated with the input's fields (upsert)"
}

func intentEmails(i run.Intent) string {
	switch {
	case i.VerifyEmail:
		return "a verification email to each created user whose email is not verified"
	case i.SendCompletionEmail:
		return "Auth0 emails the tenant's owners when each import job completes"
	}
	return "none"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
